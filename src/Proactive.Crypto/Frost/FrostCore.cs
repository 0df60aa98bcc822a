// References: RFC 9591 section 4.3 (encode_group_commitment_list), section 4.4 (compute_binding_factors),
// section 4.5 (compute_group_commitment), section 4.6 (compute_challenge), section 4.2
// (derive_interpolating_value, here Sharing.Lagrange at 0).
using System.Buffers;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Frost;

/// <summary>The RFC 9591 section 4 helper functions, generic over the ciphersuite.</summary>
internal static class FrostCore
{
    private const int StackLimit = 512;

    /// <summary>RFC 9591 section 5: 2 &lt;= MIN_PARTICIPANTS &lt;= MAX_PARTICIPANTS (caller misuse otherwise).</summary>
    internal static void CheckSignerBounds(int minSigners, int maxSigners)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSigners, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSigners, minSigners);
    }

    /// <summary>
    /// RFC 9591 section 4.3 encode_group_commitment_list: for each entry in order,
    /// SerializeScalar(identifier) || SerializeElement(D) || SerializeElement(E).
    /// </summary>
    internal static byte[] EncodeGroupCommitmentList(Ciphersuite suite, IReadOnlyList<SigningCommitments> commitments)
    {
        var ns = suite.Group.ScalarLength;
        var ne = suite.Group.ElementLength;
        var entry = ns + (2 * ne);
        var encoded = new byte[commitments.Count * entry];
        for (var i = 0; i < commitments.Count; i++)
        {
            var span = encoded.AsSpan(i * entry, entry);
            var c = commitments[i];
            c.Identifier.Encode(span[..ns]);
            c.HidingEncoding.CopyTo(span[ns..]);
            c.BindingEncoding.CopyTo(span[(ns + ne)..]);
        }

        return encoded;
    }

    /// <summary>
    /// The common prefix of every binding_factor_input (RFC 9591 section 4.4):
    /// group_public_key_enc || H4(msg) || H5(encode_group_commitment_list(commitment_list)).
    /// </summary>
    internal static byte[] BindingFactorPrefix(Ciphersuite suite, ReadOnlySpan<byte> groupKeyEncoding, IReadOnlyList<SigningCommitments> commitments, ReadOnlySpan<byte> message)
    {
        var digest = suite.DigestLength;
        var ns = suite.Group.ScalarLength;

        // One extra scalar's room at the end, where each participant's identifier goes.
        var prefix = new byte[groupKeyEncoding.Length + (2 * digest) + ns];
        groupKeyEncoding.CopyTo(prefix);
        suite.H4(message, prefix.AsSpan(groupKeyEncoding.Length, digest));
        suite.H5(EncodeGroupCommitmentList(suite, commitments), prefix.AsSpan(groupKeyEncoding.Length + digest, digest));
        return prefix;
    }

    /// <summary>
    /// RFC 9591 section 4.4 compute_binding_factors: rho_i = H1(prefix || SerializeScalar(identifier_i)),
    /// in the order of the commitment list. The hashing of the message and the list is done once for all.
    /// </summary>
    internal static Scalar[] ComputeBindingFactors(Ciphersuite suite, ReadOnlySpan<byte> groupKeyEncoding, IReadOnlyList<SigningCommitments> commitments, ReadOnlySpan<byte> message)
    {
        var input = BindingFactorPrefix(suite, groupKeyEncoding, commitments, message);
        var ns = suite.Group.ScalarLength;
        var factors = new Scalar[commitments.Count];
        for (var i = 0; i < factors.Length; i++)
        {
            commitments[i].Identifier.Encode(input.AsSpan(input.Length - ns));
            factors[i] = suite.H1(input);
        }

        return factors;
    }

    /// <summary>binding_factor_input for one participant, exposed for the RFC test vectors.</summary>
    internal static byte[] BindingFactorInput(Ciphersuite suite, ReadOnlySpan<byte> groupKeyEncoding, IReadOnlyList<SigningCommitments> commitments, ReadOnlySpan<byte> message, Identifier identifier)
    {
        var input = BindingFactorPrefix(suite, groupKeyEncoding, commitments, message);
        identifier.Encode(input.AsSpan(input.Length - suite.Group.ScalarLength));
        return input;
    }

    /// <summary>
    /// RFC 9591 section 4.5 compute_group_commitment: R = sum_i (D_i + rho_i * E_i). The D_i are only added;
    /// the rho_i * E_i go through one multi-scalar multiplication.
    /// </summary>
    internal static Element ComputeGroupCommitment(PrimeOrderGroup group, IReadOnlyList<SigningCommitments> commitments, ReadOnlySpan<Scalar> bindingFactors)
    {
        var count = commitments.Count;
        var bindings = new Element[count];
        var hidingSum = commitments[0].Hiding;
        bindings[0] = commitments[0].Binding;
        for (var i = 1; i < count; i++)
        {
            hidingSum = group.Add(hidingSum, commitments[i].Hiding);
            bindings[i] = commitments[i].Binding;
        }

        return group.Add(hidingSum, group.MultiplyMany(bindingFactors, bindings));
    }

    /// <summary>RFC 9591 section 4.6 compute_challenge: c = H2(SerializeElement(R) || SerializeElement(PK) || msg).</summary>
    /// <summary>
    /// RFC 9591 Appendix B prime_order_verify with the challenge at hand: z*G == R + c*PK.
    /// For the Ed25519 suite the same equation is libsodium's RFC 8032 verification of R || z under
    /// PK (which recomputes c = H2(R || PK || msg) itself, so c must be that challenge): with R and PK in
    /// the prime-order subgroup the cofactorless check is this equation, and libsodium's is twice as
    /// fast as ours because its multiplications need no subgroup check.
    /// </summary>
    internal static unsafe bool VerifyEquation(
        Ciphersuite suite, Element groupKey, ReadOnlySpan<byte> groupKeyEncoding, Element r,
        ReadOnlySpan<byte> rEncoding, Scalar z, Scalar challenge, ReadOnlySpan<byte> message)
    {
        var group = suite.Group;
        if (group.Id == GroupId.Ed25519)
        {
            Span<byte> signature = stackalloc byte[64];
            rEncoding.CopyTo(signature);
            group.EncodeScalar(z, signature[32..]);
            Interop.Libsodium.EnsureInitialized();
            byte empty = 0;
            fixed (byte* sig = signature, m = message, pk = groupKeyEncoding)
            {
                var messagePointer = message.IsEmpty ? &empty : m;
                return Interop.Libsodium.crypto_sign_verify_detached(sig, messagePointer, (ulong)message.Length, pk) == 0;
            }
        }

        // z*G + (-c)*PK == R
        ReadOnlySpan<Scalar> scalars = [group.Negate(challenge)];
        ReadOnlySpan<Element> points = [groupKey];
        return group.MultiplyBaseAndMany(z, scalars, points) == r;
    }

    internal static Scalar ComputeChallenge(Ciphersuite suite, ReadOnlySpan<byte> groupCommitmentEncoding, ReadOnlySpan<byte> groupKeyEncoding, ReadOnlySpan<byte> message)
    {
        var length = groupCommitmentEncoding.Length + groupKeyEncoding.Length + message.Length;
        byte[]? rented = null;
        var input = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            groupCommitmentEncoding.CopyTo(input);
            groupKeyEncoding.CopyTo(input[groupCommitmentEncoding.Length..]);
            message.CopyTo(input[(groupCommitmentEncoding.Length + groupKeyEncoding.Length)..]);
            return suite.H2(input);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>
/// Everything the signers and the coordinator derive from one (validated) signing package and group key:
/// binding factors, group commitment R and challenge c. Computed once per call and shared by every share
/// check in that call.
/// </summary>
internal sealed class SigningContext
{
    private SigningContext(SigningPackage package, Scalar[] identifiers, Scalar[] bindingFactors, Element groupCommitment, byte[]? groupCommitmentEncoding, Scalar challenge)
    {
        Package = package;
        Identifiers = identifiers;
        BindingFactors = bindingFactors;
        GroupCommitment = groupCommitment;
        GroupCommitmentEncoding = groupCommitmentEncoding;
        Challenge = challenge;
    }

    public SigningPackage Package { get; }

    /// <summary>participants_from_commitment_list (RFC 9591 section 4.3), as scalars for Lagrange.</summary>
    public Scalar[] Identifiers { get; }

    public Scalar[] BindingFactors { get; }

    public Element GroupCommitment { get; }

    /// <summary>Null when R is the identity (no encoding, and no signature).</summary>
    public byte[]? GroupCommitmentEncoding { get; }

    public Scalar Challenge { get; }

    public bool GroupCommitmentIsIdentity => GroupCommitmentEncoding is null;

    /// <summary>Call only on a package that passed <see cref="SigningPackage.Validate"/>; computed once per package and key.</summary>
    public static SigningContext Create(SigningPackage package, GroupPublicKey groupPublicKey) => package.ContextFor(groupPublicKey);

    /// <summary>The computation behind <see cref="Create"/>.</summary>
    internal static SigningContext Compute(SigningPackage package, GroupPublicKey groupPublicKey)
    {
        var suite = package.Suite;
        var group = suite.Group;
        var commitments = package.Commitments;
        var identifiers = new Scalar[commitments.Count];
        for (var i = 0; i < identifiers.Length; i++)
        {
            identifiers[i] = commitments[i].Identifier.Value;
        }

        var bindingFactors = FrostCore.ComputeBindingFactors(suite, groupPublicKey.Encoding, commitments, package.Message);
        var r = FrostCore.ComputeGroupCommitment(group, commitments, bindingFactors);
        if (group.IsIdentity(r))
        {
            return new SigningContext(package, identifiers, bindingFactors, r, null, group.Zero);
        }

        var rEncoding = group.EncodeElement(r);
        var c = FrostCore.ComputeChallenge(suite, rEncoding, groupPublicKey.Encoding, package.Message);
        return new SigningContext(package, identifiers, bindingFactors, r, rEncoding, c);
    }

    /// <summary>
    /// RFC 9591 section 5.4 verify_signature_share with lambda_i given:
    /// z_i*G == D_i + rho_i*E_i + (c*lambda_i)*PK_i, checked as z_i*G - rho_i*E_i - (c*lambda_i)*PK_i == D_i
    /// in one multi-scalar multiplication.
    /// </summary>
    public bool VerifyShare(int index, Scalar lambda, Scalar share, Element verifyingShare)
    {
        var group = Package.Suite.Group;
        var commitment = Package.Commitments[index];
        ReadOnlySpan<Scalar> scalars = [group.Negate(BindingFactors[index]), group.Negate(group.Multiply(Challenge, lambda))];
        ReadOnlySpan<Element> points = [commitment.Binding, verifyingShare];
        return group.MultiplyBaseAndMany(share, scalars, points) == commitment.Hiding;
    }
}
