// References: docs/NODE.md "Peer transport", "Wire format"; docs/STYLE.md rule 7 (version first, bounded
// lengths, one encoding); CanonicalWriter (big-endian u32 prefixes, as everywhere in the project).
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Proactive.Node.Transport;

/// <summary>Bounds a batch is read with (see <see cref="PeerTransportOptions"/>).</summary>
/// <param name="MaxFrameBytes">Largest frame.</param>
/// <param name="MaxBatchBytes">Largest whole body.</param>
/// <param name="MaxFrames">Most frames.</param>
public readonly record struct PeerBatchLimits(int MaxFrameBytes, int MaxBatchBytes, int MaxFrames);

/// <summary>How reading a batch ended.</summary>
public enum PeerBatchStatus
{
    /// <summary>Well formed and within the limits: every frame is in <see cref="PeerBatchReadResult.Frames"/>.</summary>
    Accepted = 0,

    /// <summary>Not a batch (wrong version, empty, truncated, zero-length frame, trailing bytes): HTTP 400.</summary>
    Malformed = 1,

    /// <summary>A frame, the frame count or the whole body exceeds a limit: HTTP 413.</summary>
    TooLarge = 2,
}

/// <summary>The outcome of <see cref="PeerBatch.ReadAsync"/>: the frames, or why there are none.</summary>
public sealed class PeerBatchReadResult
{
    private PeerBatchReadResult(PeerBatchStatus status, IReadOnlyList<byte[]> frames, string? reason)
    {
        Status = status;
        Frames = frames;
        Reason = reason;
    }

    /// <summary>Accepted, or which kind of refusal.</summary>
    public PeerBatchStatus Status { get; }

    /// <summary>The frames in order (empty unless accepted).</summary>
    public IReadOnlyList<byte[]> Frames { get; }

    /// <summary>Why the batch was refused, for the response body and the log; null when accepted.</summary>
    public string? Reason { get; }

    internal static PeerBatchReadResult Accepted(IReadOnlyList<byte[]> frames) => new(PeerBatchStatus.Accepted, frames, null);

    internal static PeerBatchReadResult Malformed(string reason) => new(PeerBatchStatus.Malformed, [], reason);

    internal static PeerBatchReadResult TooLarge(string reason) => new(PeerBatchStatus.TooLarge, [], reason);
}

/// <summary>
/// The body of <c>POST /peer/v1/messages</c>: <c>version u8 (= 1) | frame count u32 (1..) | count x
/// (frame length u32 (1..) | frame bytes)</c>, big-endian, nothing after the last frame. Frames are
/// opaque here (sealed envelopes, checked by the node); the transport only bounds and delimits them.
/// </summary>
public static class PeerBatch
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Version u8 and frame count u32.</summary>
    public const int HeaderLength = 5;

    /// <summary>Each frame's u32 length prefix.</summary>
    public const int FramePrefixLength = 4;

    /// <summary>The media type requests carry (informative; the version byte is what is checked).</summary>
    public const string MediaType = "application/vnd.proactive.peer-batch";

    /// <summary>Length of the encoding of <paramref name="frames"/>.</summary>
    public static long EncodedLength(IReadOnlyList<ReadOnlyMemory<byte>> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var length = (long)HeaderLength;
        foreach (var frame in frames)
        {
            length += FramePrefixLength + frame.Length;
        }

        return length;
    }

    /// <summary>The encoding of a non-empty list of non-empty frames.</summary>
    /// <exception cref="ArgumentException">No frames, or an empty frame.</exception>
    public static byte[] Encode(IReadOnlyList<ReadOnlyMemory<byte>> frames)
    {
        ThrowIfNotEncodable(frames);
        var bytes = new byte[checked((int)EncodedLength(frames))];
        WriteHeader(bytes, frames.Count);
        var offset = HeaderLength;
        foreach (var frame in frames)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset), (uint)frame.Length);
            frame.Span.CopyTo(bytes.AsSpan(offset + FramePrefixLength));
            offset += FramePrefixLength + frame.Length;
        }

        return bytes;
    }

    /// <summary>
    /// Reads one batch from a request body, checking every length against <paramref name="limits"/>
    /// before reading what it announces, so an oversized frame is refused without being buffered.
    /// Untrusted input: refusals are results, not exceptions; only I/O failure and cancellation throw.
    /// </summary>
    public static async ValueTask<PeerBatchReadResult> ReadAsync(PipeReader body, PeerBatchLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var prefix = new byte[HeaderLength];
        if (!await TryFillAsync(body, prefix, cancellationToken).ConfigureAwait(false))
        {
            return PeerBatchReadResult.Malformed("the body is shorter than the batch header");
        }

        if (prefix[0] != FormatVersion)
        {
            return PeerBatchReadResult.Malformed($"batch version {prefix[0]} is not {FormatVersion}");
        }

        var count = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
        if (count == 0)
        {
            return PeerBatchReadResult.Malformed("a batch holds at least one frame");
        }

        if (count > (uint)limits.MaxFrames)
        {
            return PeerBatchReadResult.TooLarge($"{count} frames exceed the limit of {limits.MaxFrames} per batch");
        }

        var total = (long)HeaderLength;
        var frames = new List<byte[]>((int)Math.Min(count, 64));
        for (var i = 0; i < count; i++)
        {
            if (!await TryFillAsync(body, prefix.AsMemory(0, FramePrefixLength), cancellationToken).ConfigureAwait(false))
            {
                return PeerBatchReadResult.Malformed($"the body ends before frame {i} of {count}");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
            if (length == 0)
            {
                return PeerBatchReadResult.Malformed($"frame {i} is empty");
            }

            if (length > (uint)limits.MaxFrameBytes)
            {
                return PeerBatchReadResult.TooLarge($"frame {i} of {length} bytes exceeds the limit of {limits.MaxFrameBytes}");
            }

            total += FramePrefixLength + length;
            if (total > limits.MaxBatchBytes)
            {
                return PeerBatchReadResult.TooLarge($"the batch exceeds the limit of {limits.MaxBatchBytes} bytes at frame {i}");
            }

            var frame = new byte[length];
            if (!await TryFillAsync(body, frame, cancellationToken).ConfigureAwait(false))
            {
                return PeerBatchReadResult.Malformed($"the body ends inside frame {i} of {count}");
            }

            frames.Add(frame);
        }

        var end = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
        var trailing = end.Buffer.Length;
        body.AdvanceTo(end.Buffer.End);
        if (trailing > 0)
        {
            return PeerBatchReadResult.Malformed("bytes follow the last frame");
        }

        return PeerBatchReadResult.Accepted(frames);
    }

    /// <summary>Writes the encoding of <paramref name="frames"/> to <paramref name="stream"/> without joining the frames first.</summary>
    internal static async Task WriteAsync(Stream stream, IReadOnlyList<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        var prefix = new byte[HeaderLength];
        WriteHeader(prefix, frames.Count);
        await stream.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
        foreach (var frame in frames)
        {
            BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)frame.Length);
            await stream.WriteAsync(prefix.AsMemory(0, FramePrefixLength), cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static void ThrowIfNotEncodable(IReadOnlyList<ReadOnlyMemory<byte>> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            throw new ArgumentException("A batch holds at least one frame.", nameof(frames));
        }

        foreach (var frame in frames)
        {
            if (frame.IsEmpty)
            {
                throw new ArgumentException("Frames are not empty.", nameof(frames));
            }
        }
    }

    private static void WriteHeader(Span<byte> destination, int count)
    {
        destination[0] = FormatVersion;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)count);
    }

    /// <summary>Copies exactly <paramref name="destination"/>.Length bytes from the body; false when it ends first.</summary>
    private static async ValueTask<bool> TryFillAsync(PipeReader body, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < destination.Length)
        {
            var result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The body read was cancelled.");
            }

            var buffer = result.Buffer;
            var take = (int)Math.Min(buffer.Length, destination.Length - filled);
            buffer.Slice(0, take).CopyTo(destination.Span[filled..]);
            filled += take;
            body.AdvanceTo(buffer.GetPosition(take));
            if (filled < destination.Length && result.IsCompleted)
            {
                return false;
            }
        }

        return true;
    }
}
