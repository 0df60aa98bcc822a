// References: Gennaro, Jarecki, Krawczyk, Rabin (J. Cryptology 2007), Fig. 2 step 2 (the set QUAL of
// non-disqualified dealers); docs/BRIEF.md section 3 "DKG" (QUAL committed by certificate).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Dkg;

/// <summary>One dealer of QUAL and the SHA-256 digest of the dealing (payload bytes) it is qualified with.</summary>
public readonly record struct DkgQualifiedDealer(int Dealer, byte[] DealingDigest)
{
    public bool Equals(DkgQualifiedDealer other) => Dealer == other.Dealer && DealingDigest.AsSpan().SequenceEqual(other.DealingDigest);

    public override int GetHashCode() => Dealer;
}

/// <summary>
/// The value the agreement decides: the instance, and the qualified dealers with the digest of the
/// dealing each is qualified with. The digest pins the commitment, so that a dealer who sent
/// different dealings to different servers cannot make them compute different group keys: every
/// server combines exactly the decided dealings, or knows that it cannot.
/// </summary>
/// <remarks>
/// <code>
/// u8   version = 1
/// u8   suite (GroupId)
/// u8   protocol (ProtocolKind.Dkg)
/// u64  period
/// u64  sequence
/// u32  count (1..255)
/// count x (u16 dealer, 32 bytes SHA-256(dealing payload)), dealers strictly ascending
/// </code>
/// </remarks>
public sealed class DkgQualifiedSet
{
    public const byte FormatVersion = 1;

    /// <summary>SHA-256.</summary>
    public const int DigestLength = 32;

    public DkgQualifiedSet(PrimeOrderGroup group, InstanceId instance, IReadOnlyList<DkgQualifiedDealer> dealers)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(dealers);
        if (dealers.Count is 0 or > ClusterParameters.MaxServers)
        {
            throw new ArgumentException($"QUAL holds 1 to {ClusterParameters.MaxServers} dealers.", nameof(dealers));
        }

        for (var k = 0; k < dealers.Count; k++)
        {
            if (dealers[k].Dealer < 1 || dealers[k].DealingDigest is not { Length: DigestLength } || (k > 0 && dealers[k].Dealer <= dealers[k - 1].Dealer))
            {
                throw new ArgumentException("Dealers must be ascending ids >= 1, each with a 32-byte digest.", nameof(dealers));
            }
        }

        Group = group;
        Instance = instance;
        Dealers = [.. dealers];
    }

    public PrimeOrderGroup Group { get; }

    public InstanceId Instance { get; }

    /// <summary>Ascending by dealer id.</summary>
    public IReadOnlyList<DkgQualifiedDealer> Dealers { get; }

    /// <summary>The digest of a dealing payload, as listed in a qualified set.</summary>
    public static byte[] DigestOf(ReadOnlySpan<byte> dealingPayload) => SHA256.HashData(dealingPayload);

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteU8((byte)Instance.Protocol);
        writer.WriteU64(Instance.Period);
        writer.WriteU64(Instance.Sequence);
        writer.WriteCount(Dealers.Count, ClusterParameters.MaxServers);
        foreach (var dealer in Dealers)
        {
            writer.WriteU16((ushort)dealer.Dealer);
            writer.WriteFixedBytes(dealer.DealingDigest);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes untrusted bytes (a leader's proposal): the suite must be <paramref name="group"/>,
    /// the dealers non-empty and strictly ascending, each id at least 1. Never throws for bad data.
    /// Whether the instance and the ids fit this DKG is the caller's check.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out DkgQualifiedSet? set, out CodecFailure failure)
    {
        set = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, group, out _)
            || !reader.TryReadU8(out var protocol, "protocol")
            || !reader.TryReadU64(out var period, "period")
            || !reader.TryReadU64(out var sequence, "sequence"))
        {
            failure = reader.Failure;
            return false;
        }

        var countOffset = reader.Offset;
        if (!reader.TryReadCount(ClusterParameters.MaxServers, 2 + DigestLength, out var count, "count"))
        {
            failure = reader.Failure;
            return false;
        }

        if (count == 0)
        {
            reader.Fail(CodecError.InvalidValue, countOffset, "count");
            failure = reader.Failure;
            return false;
        }

        var dealers = new DkgQualifiedDealer[count];
        for (var k = 0; k < count; k++)
        {
            var offset = reader.Offset;
            if (!reader.TryReadU16(out var dealer, "dealer") || !reader.TryReadFixedBytes(DigestLength, out var digest, "digest"))
            {
                failure = reader.Failure;
                return false;
            }

            if (dealer == 0 || (k > 0 && dealer <= dealers[k - 1].Dealer))
            {
                reader.Fail(CodecError.InvalidValue, offset, "dealer");
                failure = reader.Failure;
                return false;
            }

            dealers[k] = new DkgQualifiedDealer(dealer, digest.ToArray());
        }

        if (!reader.TryReadEnd())
        {
            failure = reader.Failure;
            return false;
        }

        set = new DkgQualifiedSet(group, new InstanceId((ProtocolKind)protocol, period, sequence), dealers);
        failure = default;
        return true;
    }

    public override string ToString() => $"DkgQualifiedSet({Instance}, [{string.Join(",", Dealers.Select(d => d.Dealer))}])";
}
