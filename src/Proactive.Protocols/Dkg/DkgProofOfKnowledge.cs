// References: Komlo and Goldberg, "FROST: Flexible Round-Optimized Schnorr Threshold Signatures"
// (SAC 2020), Figure 1 "KeyGen" round 1 steps 2 and 5 (sigma_i = (R_i, mu_i), c_i = H(i, Phi, g^{a_i0}, R_i));
// RFC 9591 Appendix C (the DKG it points to); Schnorr, "Efficient signature generation by smart
// cards" (J. Cryptology 1991); hash to scalar: RFC 9380 section 5.3.1 expand_message_xmd.
using System.Buffers.Binary;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hashing;
using Proactive.Crypto.Random;

namespace Proactive.Protocols.Dkg;

/// <summary>
/// A Schnorr proof of knowledge of a dealer's constant term a_i0 behind C_i0 = a_i0 * G, bound to
/// the dealer's index and the DKG instance. Without it a dealer who speaks last could choose
/// C_i0 = X - sum of the others' C_j0 and bias (or fix) the group key: the rogue-key attack that
/// FROST's KeyGen closes this way.
/// </summary>
/// <remarks>
/// <para>Prover: k random nonzero, R = k * G, c = H(dealer, context, C_i0, R), mu = k + a_i0 * c.
/// Verifier: R == mu * G - c * C_i0.</para>
/// <para>H: c = OS2IP(expand_message_xmd(hash, transcript, "proactive-dkg-v1-proof-of-knowledge",
/// WideScalarLength)) reduced mod q (in the group's byte order), with SHA-512 for Ed25519 and
/// ristretto255 and SHA-256 for P-256 (the hashes of their FROST suites), and
/// transcript = I2OSP(group id, 1) || I2OSP(dealer, 2) || I2OSP(len(context), 4) || context || C_i0 || R,
/// elements in their canonical encodings. The context names the instance (see
/// <see cref="DkgMachine"/>), so a proof cannot be replayed into another DKG or by another dealer.</para>
/// <para>Encoding inside a dealing: R (element, never the identity) then mu (canonical scalar).</para>
/// </remarks>
public sealed class DkgProofOfKnowledge
{
    private static readonly byte[] Dst = "proactive-dkg-v1-proof-of-knowledge"u8.ToArray();

    /// <summary>Wraps a decoded (R, mu); verification is separate.</summary>
    public DkgProofOfKnowledge(PrimeOrderGroup group, Element commitment, Scalar response)
    {
        ArgumentNullException.ThrowIfNull(group);
        Group = group;
        Commitment = commitment;
        Response = response;
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>R = k * G.</summary>
    public Element Commitment { get; }

    /// <summary>mu = k + a_i0 * c.</summary>
    public Scalar Response { get; }

    /// <summary>Proves knowledge of <paramref name="constantTerm"/> = a_i0 for dealer <paramref name="dealer"/>.</summary>
    public static DkgProofOfKnowledge Create(
        PrimeOrderGroup group, int dealer, ReadOnlySpan<byte> context, Scalar constantTerm, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(dealer, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dealer, ushort.MaxValue);
        if (constantTerm.IsZero)
        {
            throw new ArgumentException("A DKG dealer's constant term is nonzero.", nameof(constantTerm));
        }

        var k = group.RandomNonzeroScalar(random);
        var r = group.MultiplyBase(k);
        var c = Challenge(group, dealer, context, group.MultiplyBase(constantTerm), r);
        var mu = group.Add(k, group.Multiply(constantTerm, c));
        return new DkgProofOfKnowledge(group, r, mu);
    }

    /// <summary>
    /// True iff the proof shows knowledge of log_G(<paramref name="constantTermCommitment"/>) for this
    /// dealer and context. Never throws for bad data.
    /// </summary>
    public bool Verify(int dealer, ReadOnlySpan<byte> context, Element constantTermCommitment)
    {
        if (dealer < 1 || dealer > ushort.MaxValue || Group.IsIdentity(constantTermCommitment) || Group.IsIdentity(Commitment))
        {
            return false;
        }

        // R' = mu * G - c * C_i0 must equal R.
        var c = Challenge(Group, dealer, context, constantTermCommitment, Commitment);
        var expected = Group.MultiplyBaseAndMany(Response, [Group.Negate(c)], [constantTermCommitment]);
        return expected.Equals(Commitment);
    }

    public override string ToString() => $"DkgProofOfKnowledge({Group.Name})";

    private static Scalar Challenge(PrimeOrderGroup group, int dealer, ReadOnlySpan<byte> context, Element constantTermCommitment, Element r)
    {
        var ne = group.ElementLength;
        var transcript = new byte[1 + 2 + 4 + context.Length + (2 * ne)];
        transcript[0] = (byte)group.Id;
        BinaryPrimitives.WriteUInt16BigEndian(transcript.AsSpan(1, 2), (ushort)dealer);
        BinaryPrimitives.WriteInt32BigEndian(transcript.AsSpan(3, 4), context.Length);
        context.CopyTo(transcript.AsSpan(7));
        var offset = 7 + context.Length;
        group.EncodeElement(constantTermCommitment, transcript.AsSpan(offset, ne));
        group.EncodeElement(r, transcript.AsSpan(offset + ne, ne));

        var hash = group.Id == GroupId.P256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA512;
        Span<byte> wide = stackalloc byte[group.WideScalarLength];
        ExpandMessageXmd.Expand(hash, transcript, Dst, wide);
        return group.ReduceWide(wide);
    }
}
