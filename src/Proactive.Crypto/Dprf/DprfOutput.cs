using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Dprf;

/// <summary>
/// A combined DPRF output: Y = x*H(m), the pseudo-random <see cref="Value"/> derived from it, and
/// the t+1 verified partial evaluations (with their DLEQ proofs) it was interpolated from, so that
/// anyone holding the public shares can check it (<see cref="DistributedPrf.VerifyOutput"/>).
/// </summary>
/// <remarks>
/// <para>A single proof for Y itself would need x, which nobody holds; carrying the partials is what
/// makes the output publicly verifiable. Any t+1 valid partials give the same Y (uniqueness), so the
/// value cannot be biased by choosing which servers to combine.</para>
/// <para>Wire format, version 2, in the codec's layout (<see cref="CanonicalWriter"/>):</para>
/// <code>
/// u8     version = 2
/// u8     suite (GroupId)
/// bytes  message   (u32 length, at most DistributedPrf.MaxMessageLength)
/// u32    count     (1..MaxPartials)
/// count x partial  (DprfPartialEvaluation body: u32 index, element, c, z; indices strictly increasing)
/// </code>
/// <para>Version 1 (a u16 count, headers repeated in every partial) is no longer read. Y is not on
/// the wire. Decoding only parses: it does not interpolate, so a peer cannot make a decoder do
/// O(count^2) work; <see cref="Combined"/> and <see cref="Value"/> of a decoded output are computed
/// on first use, and <see cref="DistributedPrf.VerifyOutput"/> (which first requires exactly t+1
/// partials) is what makes them trustworthy.</para>
/// </remarks>
public sealed class DprfOutput : ICanonicalEncodable, ICanonicalDecodable<DprfOutput>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 2;

    /// <summary>Bytes of <see cref="Value"/>: one SHA-512 output.</summary>
    public const int ValueLength = 64;

    /// <summary>
    /// Most partials an output may carry (t+1 &lt;= n): 256, the largest server count we support.
    /// It bounds what a peer can make a decoder allocate and what interpolating a decoded output costs.
    /// </summary>
    public const int MaxPartials = 256;

    private static readonly byte[] OutputLabel = "proactive-dprf-output-v1"u8.ToArray();
    private readonly byte[] _message;
    private readonly DprfPartialEvaluation[] _partials;

    // Y and the value, known at construction for a combined output, computed on first use for a
    // decoded one; boxed so that a racing first use publishes them atomically.
    private StrongBox<Element>? _combined;
    private byte[]? _value;

    private DprfOutput(PrimeOrderGroup group, byte[] message, DprfPartialEvaluation[] partials, StrongBox<Element>? combined)
    {
        Group = group;
        _message = message;
        _partials = partials;
        _combined = combined;
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>The input m.</summary>
    public ReadOnlySpan<byte> Message => _message;

    /// <summary>
    /// Y = x * H(m) = sum over the partials of lambda_i * Y_i. For a decoded output this is the
    /// interpolation of whatever partials the sender put there: trust it only after
    /// <see cref="DistributedPrf.VerifyOutput"/>.
    /// </summary>
    public Element Combined => (_combined ??= new StrongBox<Element>(Interpolate(Group, _partials))).Value;

    /// <summary>
    /// SHA-512("proactive-dprf-output-v1" || I2OSP(group id, 1) || I2OSP(len(m), 4) || m || Enc(Y)):
    /// the pseudo-random output, 64 bytes. Trust it only after <see cref="DistributedPrf.VerifyOutput"/>.
    /// </summary>
    public ReadOnlySpan<byte> Value => _value ??= DeriveValue(Group, _message, Combined);

    /// <summary>The t+1 partials Y was interpolated from, by increasing server index.</summary>
    public IReadOnlyList<DprfPartialEvaluation> Partials => _partials;

    /// <inheritdoc />
    public int EncodedLength =>
        CanonicalWriter.HeaderSize + CanonicalWriter.LengthPrefixSize + _message.Length
        + CanonicalWriter.CountPrefixSize + (_partials.Length * DprfPartialEvaluation.BodyLength(Group));

    /// <summary>Interpolates Y in the exponent from partials with distinct indices (already verified by the caller).</summary>
    internal static DprfOutput FromVerifiedPartials(PrimeOrderGroup group, ReadOnlySpan<byte> message, DprfPartialEvaluation[] partials)
    {
        if (partials.Length is 0 or > MaxPartials)
        {
            throw new ArgumentException($"An output combines 1 to {MaxPartials} partials.", nameof(partials));
        }

        Array.Sort(partials, (a, b) => a.ServerIndex.CompareTo(b.ServerIndex));
        return new DprfOutput(group, message.ToArray(), partials, new StrongBox<Element>(Interpolate(group, partials)));
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

    /// <summary>
    /// Compares <paramref name="recomputed"/>, the interpolation a verifier just did, with
    /// <see cref="Combined"/>; for a decoded output whose Y was never computed it becomes Y,
    /// which saves interpolating twice.
    /// </summary>
    internal bool MatchesInterpolation(Element recomputed)
    {
        var known = Interlocked.CompareExchange(ref _combined, new StrongBox<Element>(recomputed), null);
        return known is null || known.Value == recomputed;
    }

    /// <summary>The canonical encoding (header included).</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteBytes(_message, DistributedPrf.MaxMessageLength);
        writer.WriteCount(_partials.Length, MaxPartials);
        foreach (var partial in _partials)
        {
            partial.WriteBodyTo(ref writer);
        }
    }

    /// <summary>
    /// Decodes an output of <paramref name="group"/>: exact structure, 1 to <see cref="MaxPartials"/>
    /// partials, indices strictly increasing, message at most <see cref="DistributedPrf.MaxMessageLength"/>
    /// bytes. Parses only: it neither verifies the proofs nor interpolates;
    /// <see cref="DistributedPrf.VerifyOutput"/> does both.
    /// </summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out DprfOutput? output) =>
        TryDecode(group, encoding, out output, out _);

    /// <summary>As the other overload, but the failure says what went wrong, at which offset and in which field.</summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out DprfOutput? output, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(group);
        return CanonicalEncoding.TryDecode<DprfOutput>(encoding, group, out output, out failure);
    }

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out DprfOutput value)
    {
        value = null;
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            || !reader.TryReadBytes(DistributedPrf.MaxMessageLength, out var message, "message"))
        {
            return false;
        }

        // The cap is checked before a single partial is read or allocated.
        var countOffset = reader.Offset;
        if (!reader.TryReadCount(MaxPartials, DprfPartialEvaluation.BodyLength(group), out var count, "partials"))
        {
            return false;
        }

        if (count == 0)
        {
            return reader.Fail(CodecError.InvalidValue, countOffset, "partials");
        }

        var partials = new DprfPartialEvaluation[count];
        for (var i = 0; i < count; i++)
        {
            var partialOffset = reader.Offset;
            if (!DprfPartialEvaluation.TryReadBody(ref reader, group, out var partial))
            {
                return false;
            }

            if (i > 0 && partial.ServerIndex <= partials[i - 1].ServerIndex)
            {
                // Strictly increasing: no duplicates, and one order, hence one encoding.
                return reader.Fail(CodecError.InvalidValue, partialOffset, "serverIndex");
            }

            partials[i] = partial;
        }

        value = new DprfOutput(group, message.ToArray(), partials, combined: null);
        return true;
    }

    public override string ToString() => $"DprfOutput({Group.Name}, {_partials.Length} partials)";

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
