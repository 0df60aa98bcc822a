using System.Buffers.Binary;
using System.IO.Pipelines;
using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

public sealed class PeerBatchTests
{
    private static readonly PeerBatchLimits Limits = new(MaxFrameBytes: 100, MaxBatchBytes: 300, MaxFrames: 8);

    // Pinned bytes: a change here is a wire-format change and needs a new FormatVersion.
    // version 01, count 2, frame 0102, frame 03.
    private const string Snapshot = "01" + "00000002" + "00000002" + "0102" + "00000001" + "03";

    private static ValueTask<PeerBatchReadResult> ReadAsync(byte[] body, PeerBatchLimits? limits = null) =>
        PeerBatch.ReadAsync(PipeReader.Create(new MemoryStream(body)), limits ?? Limits, CancellationToken.None);

    [Fact]
    public void Batch_bytes_are_pinned()
    {
        var frames = new ReadOnlyMemory<byte>[] { new byte[] { 1, 2 }, new byte[] { 3 } };

        Assert.Equal(Snapshot, Convert.ToHexStringLower(PeerBatch.Encode(frames)));
        Assert.Equal(Snapshot.Length / 2, PeerBatch.EncodedLength(frames));
    }

    [Fact]
    public async Task Reading_an_encoded_batch_gives_back_the_frames_in_order()
    {
        var frames = Enumerable.Range(1, 8).Select(i => (ReadOnlyMemory<byte>)Enumerable.Repeat((byte)i, i * 3).ToArray()).ToList();

        var result = await ReadAsync(PeerBatch.Encode(frames));

        Assert.Equal(PeerBatchStatus.Accepted, result.Status);
        Assert.Null(result.Reason);
        Assert.Equal(frames.Select(f => f.ToArray()), result.Frames);
    }

    [Fact]
    public async Task Frames_at_exactly_the_limits_are_accepted()
    {
        // 5 + 2 * (4 + 100) = 213 <= 300 bytes; 100-byte frames.
        var result = await ReadAsync(PeerBatch.Encode([new byte[100], new byte[100]]));

        Assert.Equal(PeerBatchStatus.Accepted, result.Status);
        var exact = await ReadAsync(PeerBatch.Encode([new byte[100], new byte[100]]), Limits with { MaxBatchBytes = 213, MaxFrames = 2 });
        Assert.Equal(PeerBatchStatus.Accepted, exact.Status);
    }

    [Fact]
    public async Task An_oversized_frame_is_refused_from_its_length_prefix_without_waiting_for_its_bytes()
    {
        // The body never completes: the reader must decide from the prefix alone.
        var pipe = new Pipe();
        var prefix = new byte[PeerBatch.HeaderLength + PeerBatch.FramePrefixLength];
        prefix[0] = PeerBatch.FormatVersion;
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), 1);
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(5), 0x7fff_ffff);
        await pipe.Writer.WriteAsync(prefix);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var result = await PeerBatch.ReadAsync(pipe.Reader, Limits, timeout.Token);

        Assert.Equal(PeerBatchStatus.TooLarge, result.Status);
        Assert.Contains("frame 0 of 2147483647 bytes exceeds the limit of 100", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_frame_count_over_the_limit_is_refused_from_the_header()
    {
        var result = await ReadAsync(Convert.FromHexString("01ffffffff"));

        Assert.Equal(PeerBatchStatus.TooLarge, result.Status);
        Assert.Empty(result.Frames);
    }

    [Fact]
    public void Encoding_refuses_an_empty_batch_or_an_empty_frame()
    {
        Assert.Throws<ArgumentException>(() => PeerBatch.Encode([]));
        Assert.Throws<ArgumentException>(() => PeerBatch.Encode([new byte[] { 1 }, ReadOnlyMemory<byte>.Empty]));
    }

    [Fact]
    public async Task Random_mutations_never_throw_and_what_is_accepted_re_encodes_to_the_same_bytes()
    {
        const int seed = 20250602;
        var rng = new Random(seed);
        var valid = new[]
        {
            PeerBatch.Encode([new byte[] { 1, 2, 3 }]),
            PeerBatch.Encode([new byte[] { 1 }, new byte[40], new byte[] { 9, 9 }]),
            PeerBatch.Encode([new byte[100], new byte[100]]),
        };
        var statuses = new HashSet<PeerBatchStatus>();

        for (var i = 0; i < 2000; i++)
        {
            var body = (byte[])valid[rng.Next(valid.Length)].Clone();
            switch (rng.Next(4))
            {
                case 0:
                    body[rng.Next(body.Length)] ^= (byte)rng.Next(1, 256);
                    break;
                case 1:
                    body = body[..rng.Next(body.Length)];
                    break;
                case 2:
                    body = [.. body, (byte)rng.Next(256)];
                    break;
                default:
                    rng.NextBytes(body);
                    break;
            }

            var result = await ReadAsync(body);
            statuses.Add(result.Status);
            if (result.Status == PeerBatchStatus.Accepted)
            {
                Assert.Equal(body, PeerBatch.Encode([.. result.Frames.Select(f => (ReadOnlyMemory<byte>)f)]));
            }
            else
            {
                Assert.Empty(result.Frames);
                Assert.False(string.IsNullOrEmpty(result.Reason), $"seed {seed}, body {Convert.ToHexStringLower(body)}");
            }
        }

        Assert.Contains(PeerBatchStatus.Malformed, statuses);
        Assert.Contains(PeerBatchStatus.TooLarge, statuses);
    }
}
