// References: seed 002 (Numao, IBM RT0280) section 2 "Share Recovery"; Herzberg, Jarecki, Krawczyk,
// Yung, CRYPTO 1995, section 4 (share recovery); docs/BRIEF.md section 3 "Share recovery";
// docs/PROTOCOLS.md "Share recovery".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Recovery;

/// <summary>Round and type bytes of share-recovery messages (on the wire: never renumber).</summary>
public static class RecoveryWire
{
    /// <summary>Round 1: helpers deal blinding polynomials that vanish at the recovering server.</summary>
    public const byte BlindingRound = 1;

    /// <summary>Round 2: each helper sends the recovering server its blinded share vector.</summary>
    public const byte AnswerRound = 2;

    /// <summary>Confidential, helper h to helper j: g_hk(j) for every secret k (<see cref="SubShareVectorCodec"/>).</summary>
    public const byte BlindingSubSharesType = 1;

    /// <summary>Broadcast by each helper: <see cref="RecoveryBlindingCommitments"/>.</summary>
    public const byte BlindingCommitmentsType = 2;

    /// <summary>Confidential, helper j to the recovering server: s_kj + sum_{h in B} g_hk(j) (<see cref="SubShareVectorCodec"/>).</summary>
    public const byte BlindedSharesType = 3;
}

/// <summary>
/// A helper's public binding for its blinding dealing: the recovering server r, a hash of each
/// confidential blinding message (entry r unused, all zero), and the Feldman commitment to the
/// combined polynomial sum_k rho^k g_k, which must vanish at r; rho is derived from the bytes before it.
/// Format, version 1: u8 version, u8 suite, u16 r, u32 n, n x 32-byte hash, FeldmanCommitment body.
/// </summary>
public sealed class RecoveryBlindingCommitments
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    private static readonly byte[] ChallengeDomain = "proactive/recovery/challenge/v1"u8.ToArray();
    private static readonly byte[] SubSharesDomain = "proactive/recovery/blinding/v1"u8.ToArray();
    private static readonly byte[] DealingDomain = "proactive/recovery/dealing/v1"u8.ToArray();

    private RecoveryBlindingCommitments(int recovering, byte[][] hashes, FeldmanCommitment combined, int bindingLength)
    {
        Recovering = recovering;
        RecipientHashes = hashes;
        CombinedCommitment = combined;
        BindingLength = bindingLength;
    }

    /// <summary>r.</summary>
    public int Recovering { get; }

    /// <summary>Hash of the blinding message to server j, at j-1.</summary>
    public IReadOnlyList<byte[]> RecipientHashes { get; }

    /// <summary>Commitment to sum_k rho^k g_k.</summary>
    public FeldmanCommitment CombinedCommitment { get; }

    /// <summary>Bytes hashed into rho.</summary>
    public int BindingLength { get; }

    /// <summary>The binding prefix.</summary>
    public static byte[] EncodeBinding(PrimeOrderGroup group, int recovering, IReadOnlyList<byte[]> hashes)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteU16((ushort)recovering);
        writer.WriteCount(hashes.Count, Cluster.ClusterParameters.MaxServers);
        foreach (var h in hashes)
        {
            writer.WriteFixedBytes(h);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The whole message: binding prefix, then the combined commitment.</summary>
    public static byte[] Encode(byte[] binding, FeldmanCommitment combined)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(binding);
        var writer = new CanonicalWriter(output);
        combined.WriteBodyTo(ref writer);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out RecoveryBlindingCommitments? value)
    {
        value = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, group, out _)
            || !reader.TryReadU16(out var r, "recovering")
            || !reader.TryReadCount(Cluster.ClusterParameters.MaxServers, RefreshTranscript.HashLength, out var n, "hashes"))
        {
            return false;
        }

        var hashes = new byte[n][];
        for (var j = 0; j < n; j++)
        {
            if (!reader.TryReadFixedBytes(RefreshTranscript.HashLength, out var h, "hash"))
            {
                return false;
            }

            hashes[j] = h.ToArray();
        }

        var bindingLength = reader.Offset;
        if (!FeldmanCommitment.TryReadBody(ref reader, group, out var combined) || !reader.TryReadEnd())
        {
            return false;
        }

        value = new RecoveryBlindingCommitments(r, hashes, combined, bindingLength);
        return true;
    }

    /// <summary>rho for a helper's combined blinding polynomial (random oracle over its binding bytes).</summary>
    public static Scalar Challenge(PrimeOrderGroup group, InstanceId instance, int helper, ReadOnlySpan<byte> binding) =>
        RefreshTranscript.ChallengeWithDomain(group, ChallengeDomain, instance, helper, binding);

    /// <summary>Binds a helper to one blinding message.</summary>
    public static byte[] SubSharesHash(InstanceId instance, int helper, ReadOnlySpan<byte> message) =>
        RefreshTranscript.Hash(System.Security.Cryptography.HashAlgorithmName.SHA256, SubSharesDomain, instance, helper, message);

    /// <summary>What the helper set names for each helper.</summary>
    public static byte[] DealingHash(InstanceId instance, int helper, ReadOnlySpan<byte> message) =>
        RefreshTranscript.Hash(System.Security.Cryptography.HashAlgorithmName.SHA256, DealingDomain, instance, helper, message);
}
