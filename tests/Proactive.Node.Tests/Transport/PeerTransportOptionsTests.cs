using Proactive.Node.Transport;
using Proactive.Protocols.Envelopes;

namespace Proactive.Node.Tests.Transport;

public sealed class PeerTransportOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_carry_the_largest_envelope()
    {
        var options = new PeerTransportOptions();

        options.Validate();
        Assert.Equal(Envelope.MaxEncodedLength, options.MaxFrameBytes);
        Assert.True(options.MaxBatchBytes >= PeerBatch.HeaderLength + PeerBatch.FramePrefixLength + Envelope.MaxEncodedLength);
    }

    public static TheoryData<string> BadSettings() =>
    [
        "frame", "batch", "frames", "target", "delay", "queue-frames", "queue-bytes", "backoff", "timeout",
    ];

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Contradictory_or_out_of_range_settings_are_refused(string which)
    {
        var options = new PeerTransportOptions();
        switch (which)
        {
            case "frame": options.MaxFrameBytes = 0; break;
            case "batch": options.MaxBatchBytes = options.MaxFrameBytes; break;
            case "frames": options.MaxFramesPerBatch = 0; break;
            case "target": options.BatchTargetBytes = options.MaxBatchBytes + 1; break;
            case "delay": options.BatchDelay = TimeSpan.FromMilliseconds(-1); break;
            case "queue-frames": options.MaxQueuedFramesPerPeer = 0; break;
            case "queue-bytes": options.MaxQueuedBytesPerPeer = options.MaxFrameBytes - 1; break;
            case "backoff": options.MaxBackoff = options.InitialBackoff / 2; break;
            default: options.RequestTimeout = TimeSpan.Zero; break;
        }

        Assert.Throws<ArgumentException>(options.Validate);
    }
}
