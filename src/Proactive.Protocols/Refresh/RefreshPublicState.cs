// References: seed 002 section 2 "Share Update" (commitments updated with the sum of the qualified
// dealings); docs/BRIEF.md section 3 "Refresh" and "Refresh at scale"; docs/PROTOCOLS.md "Refresh".
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;

namespace Proactive.Protocols.Refresh;

/// <summary>
/// The public record a refresh reads and rewrites: how many secrets the network holds (m) and, for
/// the first <see cref="SigningKeyCount"/> of them (signing and decryption keys, whose public key
/// shares are needed anyway), their full Feldman commitments. The remaining m - a stored data keys
/// have only the per-server <see cref="ShareVectorDigest"/>, which each server publishes in the
/// period root (it is not part of this record: only its owner can compute it).
/// </summary>
/// <remarks>
/// <para>Wire format, version 1: u8 version, u8 suite, u32 m, u32 a (0..MaxSigningKeys),
/// a x FeldmanCommitment body (<see cref="FeldmanCommitment.WriteBodyTo"/>).</para>
/// </remarks>
public sealed class RefreshPublicState
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>At most this many secrets carry full commitments (keeps the record and every check small).</summary>
    public const int MaxSigningKeys = 1024;

    private readonly FeldmanCommitment[] _signingKeyCommitments;

    /// <summary>
    /// Secrets 0..a-1 are the signing keys with <paramref name="signingKeyCommitments"/> (all of degree t
    /// in <paramref name="group"/>, C_0 the key's public key); secrets a..m-1 are data keys.
    /// </summary>
    public RefreshPublicState(PrimeOrderGroup group, int secretCount, IReadOnlyList<FeldmanCommitment> signingKeyCommitments)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(signingKeyCommitments);
        ArgumentOutOfRangeException.ThrowIfLessThan(secretCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(secretCount, ShareVector.MaxSecrets);
        if (signingKeyCommitments.Count > Math.Min(secretCount, MaxSigningKeys))
        {
            throw new ArgumentException("More signing-key commitments than secrets (or than MaxSigningKeys).", nameof(signingKeyCommitments));
        }

        var degree = signingKeyCommitments.Count == 0 ? 0 : signingKeyCommitments[0].Degree;
        foreach (var c in signingKeyCommitments)
        {
            ArgumentNullException.ThrowIfNull(c, nameof(signingKeyCommitments));
            if (c.Group.Id != group.Id || c.Degree != degree)
            {
                throw new ArgumentException("Every commitment must be in the state's group and of the same degree.", nameof(signingKeyCommitments));
            }
        }

        Group = group;
        SecretCount = secretCount;
        _signingKeyCommitments = signingKeyCommitments.ToArray();
    }

    /// <summary>The group of every secret.</summary>
    public PrimeOrderGroup Group { get; }

    /// <summary>m: how many secrets (signing keys first, then data keys).</summary>
    public int SecretCount { get; }

    /// <summary>a: how many of the secrets are signing keys with full commitments.</summary>
    public int SigningKeyCount => _signingKeyCommitments.Length;

    /// <summary>m - a: stored data keys, checked by the combined commitment and the digest only.</summary>
    public int DataKeyCount => SecretCount - SigningKeyCount;

    /// <summary>The Feldman commitments of secrets 0..a-1.</summary>
    public IReadOnlyList<FeldmanCommitment> SigningKeyCommitments => _signingKeyCommitments;

    /// <summary>The canonical encoding (hashed into the period root, persisted by the driver).</summary>
    public byte[] Encode()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteU32((uint)SecretCount);
        writer.WriteCount(_signingKeyCommitments.Length, MaxSigningKeys);
        foreach (var c in _signingKeyCommitments)
        {
            c.WriteBodyTo(ref writer);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes; never throws on bad data.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out RefreshPublicState? state)
    {
        state = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            || !reader.TryReadU32(out var m, "secretCount")
            || m == 0 || m > ShareVector.MaxSecrets
            || !reader.TryReadCount(MaxSigningKeys, 1, out var a, "signingKeyCount")
            || a > m)
        {
            return false;
        }

        var commitments = new FeldmanCommitment[a];
        for (var k = 0; k < a; k++)
        {
            if (!FeldmanCommitment.TryReadBody(ref reader, group, out var c) || (k > 0 && c.Degree != commitments[0].Degree))
            {
                return false;
            }

            commitments[k] = c;
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        state = new RefreshPublicState(group, (int)m, commitments);
        return true;
    }

    public override string ToString() => $"RefreshPublicState({Group.Name}, {SecretCount} secrets, {SigningKeyCount} signing keys)";
}
