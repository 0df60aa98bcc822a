using System.Buffers.Binary;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Dprf;

/// <summary>
/// A combined DPRF output: Y = x*H(m), the pseudo-random <see cref="Value"/> derived from it, and
/// the t+1 verified partial evaluations (with their DLEQ proofs) it was interpolated from, so that
/// anyone holding the public shares can check it (<see cref="DistributedPrf.VerifyOutput"/>).
/// </summary>
/// <remarks>
/// A single proof for Y itself would need x, which nobody holds; carrying the partials is what
/// makes the output publicly verifiable. Any t+1 valid partials give the same Y (uniqueness), so the
/// value cannot be biased by choosing which servers to combine.
/// Wire format: version (1) || group id (1) || partial count (2, big-endian) || message length
/// (4, big-endian) || message || partials in strictly increasing server index, each in the
/// fixed-length <see cref="DprfPartialEvaluation"/> encoding. Y and the value are recomputed on decode.
/// </remarks>
public sealed class DprfOutput
{
    public const byte Version = 1;

    /// <summary>Bytes of <see cref="Value"/>: one SHA-512 output.</summary>
    public const int ValueLength = 64;

    private static readonly byte[] OutputLabel = "proactive-dprf-output-v1"u8.ToArray();
    private readonly byte[] _message;
    private readonly byte[] _value;

    private DprfOutput(PrimeOrderGroup group, byte[] message, Element combined, DprfPartialEvaluation[] partials)
    {
        Group = group;
        _message = message;
        Combined = combined;
        Partials = partials;
        _value = DeriveValue(group, message, combined);
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>The input m.</summary>
    public ReadOnlySpan<byte> Message => _message;

    /// <summary>Y = x * H(m) = sum over the partials of lambda_i * Y_i.</summary>
    public Element Combined { get; }

    /// <summary>
    /// SHA-512("proactive-dprf-output-v1" || I2OSP(group id, 1) || I2OSP(len(m), 4) || m || Enc(Y)):
    /// the pseudo-random output, 64 bytes.
    /// </summary>
    public ReadOnlySpan<byte> Value => _value;

    /// <summary>The t+1 partials Y was interpolated from, by increasing server index.</summary>
    public IReadOnlyList<DprfPartialEvaluation> Partials { get; }

    /// <summary>Interpolates Y in the exponent from partials with distinct indices (already verified by the caller).</summary>
    internal static DprfOutput FromVerifiedPartials(PrimeOrderGroup group, ReadOnlySpan<byte> message, DprfPartialEvaluation[] partials)
    {
        Array.Sort(partials, (a, b) => a.ServerIndex.CompareTo(b.ServerIndex));
        return new DprfOutput(group, message.ToArray(), Interpolate(group, partials), partials);
    }

    /// <summary>Y = sum lambda_i(0) * Y_i over the partials (Lagrange in the exponent).</summary>
    internal static Element Interpolate(PrimeOrderGroup group, IReadOnlyList<DprfPartialEvaluation> partials)
    {
        var xs = new Scalar[partials.Count];
        var ys = new Element[partials.Count];
        for (var i = 0; i < xs.Length; i++)
        {
            xs[i] = group.FromUInt64((ulong)partials[i].ServerIndex);
            ys[i] = partials[i].Value;
        }

        var lambdas = Lagrange.Coefficients(group, xs, group.Zero);
        return group.MultiplyMany(lambdas, ys);
    }

    public byte[] Encode()
    {
        var partialLength = DprfPartialEvaluation.EncodedLength(Group);
        var bytes = new byte[8 + _message.Length + (Partials.Count * partialLength)];
        bytes[0] = Version;
        bytes[1] = (byte)Group.Id;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2, 2), (ushort)Partials.Count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4, 4), _message.Length);
        _message.CopyTo(bytes, 8);
        var offset = 8 + _message.Length;
        foreach (var partial in Partials)
        {
            partial.Encode(bytes.AsSpan(offset, partialLength));
            offset += partialLength;
        }

        return bytes;
    }

    /// <summary>
    /// Decodes an output of <paramref name="group"/>: exact structure, at least one partial, indices
    /// strictly increasing, message at most <see cref="DistributedPrf.MaxMessageLength"/> bytes.
    /// Does not verify the proofs; <see cref="DistributedPrf.VerifyOutput"/> does.
    /// </summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, out DprfOutput? output)
    {
        ArgumentNullException.ThrowIfNull(group);
        output = null;
        if (encoding.Length < 8 || encoding[0] != Version || encoding[1] != (byte)group.Id)
        {
            return false;
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(encoding[2..4]);
        var messageLength = BinaryPrimitives.ReadInt32BigEndian(encoding[4..8]);
        var partialLength = DprfPartialEvaluation.EncodedLength(group);
        if (count == 0 || messageLength < 0 || messageLength > DistributedPrf.MaxMessageLength ||
            encoding.Length != 8L + messageLength + ((long)count * partialLength))
        {
            return false;
        }

        var message = encoding.Slice(8, messageLength).ToArray();
        var partials = new DprfPartialEvaluation[count];
        var offset = 8 + messageLength;
        for (var i = 0; i < count; i++)
        {
            if (!DprfPartialEvaluation.TryDecode(group, encoding.Slice(offset, partialLength), out var partial) ||
                (i > 0 && partial!.ServerIndex <= partials[i - 1].ServerIndex))
            {
                return false;
            }

            partials[i] = partial!;
            offset += partialLength;
        }

        output = new DprfOutput(group, message, Interpolate(group, partials), partials);
        return true;
    }

    public override string ToString() => $"DprfOutput({Group.Name}, {Partials.Count} partials)";

    private static byte[] DeriveValue(PrimeOrderGroup group, ReadOnlySpan<byte> message, Element combined)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        hash.AppendData(OutputLabel);
        Span<byte> header = stackalloc byte[5];
        header[0] = (byte)group.Id;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], message.Length);
        hash.AppendData(header);
        hash.AppendData(message);
        hash.AppendData(group.EncodeElement(combined, allowIdentity: true));
        return hash.GetHashAndReset();
    }
}
