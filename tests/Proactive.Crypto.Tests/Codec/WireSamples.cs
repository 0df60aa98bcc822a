using Proactive.Crypto.Dprf;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Deterministic instances of the protocol wire types (small multiples of G, small scalars, fixed
/// bytes), shared by the snapshot tests that pin their bytes and the fuzz test that mutates them.
/// They are well formed, not meaningful: the proofs and ciphertexts would not verify or open.
/// </summary>
internal static class WireSamples
{
    public static Element Point(PrimeOrderGroup g, ulong k) => g.MultiplyBase(g.FromUInt64(k));

    /// <summary>Participant 3 committing to D = G, E = 2G.</summary>
    public static SigningCommitments Commitments(Ciphersuite suite) =>
        new(suite, Identifier.FromInt(suite, 3), Point(suite.Group, 1), Point(suite.Group, 2));

    /// <summary>Participant 3's share z = 5.</summary>
    public static SignatureShare Share(Ciphersuite suite) =>
        new(suite, Identifier.FromInt(suite, 3), suite.Group.FromUInt64(5));

    /// <summary>A FROST signature R = G, z = 5 (headerless, RFC 9591).</summary>
    public static Signature FrostSignature(Ciphersuite suite) =>
        new(suite, Point(suite.Group, 1), suite.Group.FromUInt64(5));

    /// <summary>The proof (c, z) = (7, 9).</summary>
    public static DleqProof Proof(PrimeOrderGroup g)
    {
        byte[] bytes = [.. g.EncodeScalar(g.FromUInt64(7)), .. g.EncodeScalar(g.FromUInt64(9))];
        Assert.True(DleqProof.TryDecode(g, bytes, out var proof));
        return proof;
    }

    /// <summary>Server <paramref name="index"/> answering Y = (index + 1)G, proof (7, 9).</summary>
    public static DprfPartialEvaluation Partial(PrimeOrderGroup g, int index) =>
        new(g, index, Point(g, (ulong)index + 1), Proof(g));

    /// <summary>Server 3's partial: Y = 4G, proof (7, 9).</summary>
    public static DprfPartialEvaluation Partial(PrimeOrderGroup g) => Partial(g, 3);

    /// <summary>An output for the message "m" from the partials of servers 1 and 3.</summary>
    public static DprfOutput Output(PrimeOrderGroup g) =>
        DprfOutput.FromVerifiedPartials(g, "m"u8, [Partial(g, 3), Partial(g, 1)]);

    /// <summary>enc = 32 bytes 0x11, ciphertext = bytes 0..18 (a 3-byte plaintext and a 16-byte tag).</summary>
    public static HpkeSealedMessage Sealed(HpkeSuite suite) =>
        new(suite, Enumerable.Repeat((byte)0x11, HpkeSuite.EncapsulatedKeyLength).ToArray(), Enumerable.Range(0, 19).Select(i => (byte)i).ToArray());
}
