using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Tests;

public sealed class PlainWireCodecTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);
    private static readonly InstanceId Instance = new(ProtocolKind.Refresh, 7, 3);
    private static readonly PlainWireCodec Codec = new(FourServers);

    [Fact]
    public void Direct_message_round_trips_with_every_field()
    {
        var outbound = new OutboundMessage(3, 9, 2, 5, [1, 2, 3], Confidential: true);

        var packet = Assert.Single(Codec.Encode(2, Instance, outbound));
        Assert.True(Codec.TryDecode(3, packet.Bytes, out var decoded, out var rejection), rejection);

        Assert.Equal(3, packet.Recipient);
        Assert.Equal(Instance, decoded.Instance);
        var message = decoded.Message;
        Assert.Equal((2, 9u, (byte)2, (byte)5, true), (message.Sender, message.Attempt, message.Round, message.Type, message.Confidential));
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload.ToArray());
        Assert.Equal(packet.Bytes, message.Signed.ToArray());
    }

    [Fact]
    public void Broadcast_gives_one_packet_to_every_server_including_the_sender()
    {
        var packets = Codec.Encode(1, Instance, new OutboundMessage(null, 0, 0, 1, [4], Confidential: false));

        Assert.Equal([1, 2, 3, 4], packets.Select(p => p.Recipient));
        Assert.All(packets, p => Assert.True(Codec.TryDecode(p.Recipient, p.Bytes, out _, out _)));
    }

    [Fact]
    public void Frame_layout_is_pinned()
    {
        var packet = Assert.Single(Codec.Encode(2, Instance, new OutboundMessage(3, 9, 2, 5, [0xAB], Confidential: false)));

        Assert.Equal(
            "01" + "03" + "0000000000000007" + "0000000000000003" + "00000009" + "02" + "05" + "0002" + "0003" + "00" + "00000001AB",
            Convert.ToHexString(packet.Bytes));
    }

    [Fact]
    public void Sender_mistakes_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Codec.Encode(5, Instance, new OutboundMessage(1, 0, 0, 0, [], false)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Codec.Encode(1, Instance, new OutboundMessage(9, 0, 0, 0, [], false)));
        Assert.Throws<ArgumentException>(() => Codec.Encode(1, Instance, new OutboundMessage(null, 0, 0, 0, [], true)));
    }

    public static TheoryData<string, string> BadFrames()
    {
        var good = Convert.ToHexString(Assert.Single(Codec.Encode(2, Instance, new OutboundMessage(3, 9, 2, 5, [0xAB], false))).Bytes);
        return new TheoryData<string, string>
        {
            { "empty", "" },
            { "wrong version", "02" + good[2..] },
            { "unknown protocol", good[..2] + "FF" + good[4..] },
            { "sender 0", good[..48] + "0000" + good[52..] },
            { "sender 5", good[..48] + "0005" + good[52..] },
            { "addressed to another server", good[..52] + "0004" + good[56..] },
            { "confidential flag 2", good[..56] + "02" + good[58..] },
            { "payload length beyond the data", good[..58] + "00000009AB" },
            { "truncated", good[..^2] },
            { "trailing byte", good + "00" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFrames))]
    public void Bad_frames_are_rejected_with_a_reason(string name, string hex)
    {
        var accepted = Codec.TryDecode(3, Convert.FromHexString(hex), out var message, out var rejection);

        Assert.False(accepted, name);
        Assert.Null(message);
        Assert.False(string.IsNullOrEmpty(rejection));
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new DeterministicRandomSource(20);
        var lengthByte = new byte[1];
        for (var i = 0; i < 2000; i++)
        {
            random.Fill(lengthByte);
            var garbage = new byte[lengthByte[0] % 80];
            random.Fill(garbage);
            if (garbage.Length > 0 && i % 2 == 0)
            {
                garbage[0] = PlainWireCodec.FormatVersion; // get past the first check half the time
            }

            var accepted = Codec.TryDecode(1, garbage, out var message, out var rejection);
            Assert.True(accepted ? message is not null : !string.IsNullOrEmpty(rejection));
        }
    }
}
