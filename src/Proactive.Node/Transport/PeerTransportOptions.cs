// References: docs/NODE.md "Peer transport", "Limits" and "Retries".
using System.Net;
using Proactive.Protocols.Envelopes;

namespace Proactive.Node.Transport;

/// <summary>
/// Settings of the peer transport. The defaults suit the local cluster and a LAN; every server of a
/// network must use the same frame and batch limits (a sender never builds a batch its peers refuse).
/// To add a setting: a property with a default that works locally, a check in <see cref="Validate"/>,
/// and a line in docs/NODE.md "Peer transport".
/// </summary>
public sealed class PeerTransportOptions
{
    /// <summary>Where the listener binds. Port 0 picks a free port (tests); the bound one is reported by the listener.</summary>
    public IPEndPoint ListenEndpoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>Largest frame (one sealed envelope). Default: the largest envelope the protocols can produce.</summary>
    public int MaxFrameBytes { get; set; } = Envelope.MaxEncodedLength;

    /// <summary>Largest request body: batch header and every length-prefixed frame. At least one maximal frame must fit.</summary>
    public int MaxBatchBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Most frames in one batch (bounds per-request work when frames are tiny).</summary>
    public int MaxFramesPerBatch { get; set; } = 4096;

    /// <summary>
    /// How long a link waits after the first queued frame for more, to send them in one request. Zero (the
    /// default) sends at once; frames still batch on their own, because a link sends one request at a time
    /// and whatever queues meanwhile goes in the next (a signature takes four hops: a fixed delay per hop
    /// would dominate its latency).
    /// </summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Queued bytes at which a link sends at once, without waiting <see cref="BatchDelay"/>; also the size it aims for per request.</summary>
    public int BatchTargetBytes { get; set; } = 1024 * 1024;

    /// <summary>Most frames queued for one peer; beyond it the oldest are dropped (and counted).</summary>
    public int MaxQueuedFramesPerPeer { get; set; } = 10_000;

    /// <summary>Most bytes queued for one peer; beyond it the oldest frames are dropped (and counted).</summary>
    public long MaxQueuedBytesPerPeer { get; set; } = 64L * 1024 * 1024;

    /// <summary>First retry delay after a failed request; it doubles per consecutive failure.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest retry delay.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Time allowed for one request (connect, handshake, upload, answer).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Time allowed to open a TCP connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Time the listener allows for a TLS handshake.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The limits a batch is read with.</summary>
    public PeerBatchLimits BatchLimits => new(MaxFrameBytes, MaxBatchBytes, MaxFramesPerBatch);

    /// <summary>Throws when a setting is out of range or the limits contradict each other.</summary>
    /// <exception cref="ArgumentException">The options are not usable.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ListenEndpoint);
        Require(MaxFrameBytes >= 1, "MaxFrameBytes must be positive.");
        Require(MaxFramesPerBatch >= 1, "MaxFramesPerBatch must be positive.");
        Require(
            (long)MaxBatchBytes >= PeerBatch.HeaderLength + PeerBatch.FramePrefixLength + (long)MaxFrameBytes,
            "MaxBatchBytes must hold the batch header and one frame of MaxFrameBytes.");
        Require(BatchTargetBytes >= 1 && BatchTargetBytes <= MaxBatchBytes, "BatchTargetBytes must be in 1..MaxBatchBytes.");
        Require(BatchDelay >= TimeSpan.Zero, "BatchDelay must not be negative.");
        Require(MaxQueuedFramesPerPeer >= 1, "MaxQueuedFramesPerPeer must be positive.");
        Require(MaxQueuedBytesPerPeer >= MaxFrameBytes, "MaxQueuedBytesPerPeer must hold at least one frame of MaxFrameBytes.");
        Require(InitialBackoff > TimeSpan.Zero && MaxBackoff >= InitialBackoff, "Backoff must satisfy 0 < InitialBackoff <= MaxBackoff.");
        Require(RequestTimeout > TimeSpan.Zero && ConnectTimeout > TimeSpan.Zero && HandshakeTimeout > TimeSpan.Zero, "Timeouts must be positive.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
