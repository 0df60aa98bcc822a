// References: RFC 9591 section 5.2 (Round Two - Signature Share Generation), section 5.4 (Identifiable Abort:
// verify_signature_share), section 7.3 (nonce reuse), ZF frost round2::sign.
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Frost;

/// <summary>Round two of FROST signing (RFC 9591 section 5.2) and the check of one share (section 5.4).</summary>
public static class Round2
{
    /// <summary>
    /// RFC 9591 section 5.2 sign: z_i = d_i + e_i * rho_i + lambda_i * sk_i * c.
    /// </summary>
    /// <remarks>
    /// Every call consumes <paramref name="nonces"/>, even one that refuses the package: a nonce pair signs
    /// at most once (section 7.3), and a second call with it throws <see cref="InvalidOperationException"/>.
    /// The package is untrusted: its structure (count within MIN..MAX, ascending identifiers, no duplicates)
    /// and the signer's own commitment are checked before any cryptography, and failures come back as a
    /// <see cref="FrostError"/>, not an exception.
    /// </remarks>
    public static FrostResult<SignatureShare> Sign(SigningPackage signingPackage, SigningNonces nonces, KeyPackage keyPackage)
    {
        ArgumentNullException.ThrowIfNull(signingPackage);
        ArgumentNullException.ThrowIfNull(nonces);
        ArgumentNullException.ThrowIfNull(keyPackage);
        var suite = keyPackage.Suite;
        if (signingPackage.Suite != suite || nonces.Suite != suite)
        {
            throw new ArgumentException("The signing package, nonces and key package must be of one suite.", nameof(signingPackage));
        }

        if (nonces.Identifier != keyPackage.Identifier)
        {
            throw new ArgumentException("These nonces were made for another participant.", nameof(nonces));
        }

        var (hidingNonce, bindingNonce) = nonces.Consume();

        var error = signingPackage.Validate(keyPackage.MinSigners, keyPackage.MaxSigners, out var culprit);
        if (error != FrostError.None)
        {
            return culprit == default ? FrostResult<SignatureShare>.Failure(error) : FrostResult<SignatureShare>.Failure(error, culprit);
        }

        var index = signingPackage.IndexOf(keyPackage.Identifier);
        if (index < 0)
        {
            return FrostResult<SignatureShare>.Failure(FrostError.SignerNotInCommitments);
        }

        var own = signingPackage.Commitments[index];
        if (own.Hiding != nonces.Commitments.Hiding || own.Binding != nonces.Commitments.Binding)
        {
            return FrostResult<SignatureShare>.Failure(FrostError.IncorrectCommitment);
        }

        var context = SigningContext.Create(signingPackage, keyPackage.GroupPublicKey);
        if (context.GroupCommitmentIsIdentity)
        {
            return FrostResult<SignatureShare>.Failure(FrostError.IdentityGroupCommitment);
        }

        var group = suite.Group;

        // lambda_i = derive_interpolating_value(participant_list, identifier) (section 4.2).
        var lambda = Lagrange.Coefficient(group, context.Identifiers, index, group.Zero);

        // z_i = d_i + e_i * rho_i + lambda_i * sk_i * c
        var z = group.Add(
            group.Add(hidingNonce, group.Multiply(bindingNonce, context.BindingFactors[index])),
            group.Multiply(group.Multiply(lambda, keyPackage.SigningShare.Value), context.Challenge));
        return FrostResult<SignatureShare>.Success(new SignatureShare(suite, keyPackage.Identifier, z));
    }

    /// <summary>
    /// RFC 9591 section 5.4 verify_signature_share: z_i*G == D_i + rho_i*E_i + (c*lambda_i)*PK_i, with PK_i from
    /// <paramref name="publicKeyPackage"/>. False, never an exception, for a malformed package or a share from a
    /// participant outside it.
    /// </summary>
    public static bool VerifySignatureShare(SigningPackage signingPackage, SignatureShare signatureShare, PublicKeyPackage publicKeyPackage)
    {
        ArgumentNullException.ThrowIfNull(signingPackage);
        ArgumentNullException.ThrowIfNull(signatureShare);
        ArgumentNullException.ThrowIfNull(publicKeyPackage);
        var suite = publicKeyPackage.Suite;
        if (signingPackage.Suite != suite || signatureShare.Suite != suite)
        {
            throw new ArgumentException("The signing package, share and public key package must be of one suite.", nameof(signingPackage));
        }

        if (signingPackage.Validate(publicKeyPackage.MinSigners, publicKeyPackage.MaxSigners, out _) != FrostError.None)
        {
            return false;
        }

        var index = signingPackage.IndexOf(signatureShare.Identifier);
        if (index < 0 || !publicKeyPackage.VerifyingShares.TryGetValue(signatureShare.Identifier, out var verifyingShare))
        {
            return false;
        }

        var context = SigningContext.Create(signingPackage, publicKeyPackage.GroupPublicKey);
        if (context.GroupCommitmentIsIdentity)
        {
            return false;
        }

        var lambda = Lagrange.Coefficient(suite.Group, context.Identifiers, index, suite.Group.Zero);
        return context.VerifyShare(index, lambda, signatureShare.Share, verifyingShare.Element);
    }
}

/// <summary>The coordinator's last step (RFC 9591 section 5.3) with identifiable abort (section 5.4).</summary>
public static class Aggregation
{
    /// <summary>
    /// RFC 9591 section 5.3 aggregate: z = sum z_i, signature (R, z). The signature is checked against the group
    /// key before it is returned; only when that fails is every share checked (section 5.4), and the result then
    /// names the signers whose shares are wrong (<see cref="FrostError.InvalidSignatureShare"/>). A well-formed
    /// run costs one group commitment and one verification.
    /// </summary>
    /// <remarks>
    /// Structural problems come first and name their culprits too: a malformed package, signers without a
    /// verifying share, missing, duplicate or unexpected shares.
    /// </remarks>
    public static FrostResult<Signature> Aggregate(SigningPackage signingPackage, IReadOnlyList<SignatureShare> signatureShares, PublicKeyPackage publicKeyPackage)
    {
        ArgumentNullException.ThrowIfNull(signingPackage);
        ArgumentNullException.ThrowIfNull(signatureShares);
        ArgumentNullException.ThrowIfNull(publicKeyPackage);
        var suite = publicKeyPackage.Suite;
        if (signingPackage.Suite != suite)
        {
            throw new ArgumentException("The signing package and public key package must be of one suite.", nameof(signingPackage));
        }

        foreach (var s in signatureShares)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(signatureShares));
            if (s.Suite != suite)
            {
                throw new ArgumentException("A signature share belongs to another suite.", nameof(signatureShares));
            }
        }

        var error = signingPackage.Validate(publicKeyPackage.MinSigners, publicKeyPackage.MaxSigners, out var culprit);
        if (error != FrostError.None)
        {
            return culprit == default ? FrostResult<Signature>.Failure(error) : FrostResult<Signature>.Failure(error, culprit);
        }

        var commitments = signingPackage.Commitments;
        var count = commitments.Count;
        var unknown = new List<Identifier>();
        foreach (var c in commitments)
        {
            if (!publicKeyPackage.VerifyingShares.ContainsKey(c.Identifier))
            {
                unknown.Add(c.Identifier);
            }
        }

        if (unknown.Count > 0)
        {
            return FrostResult<Signature>.Failure(FrostError.UnknownSigner, [.. unknown]);
        }

        // Shares in commitment-list order; then name duplicates, strangers and absentees.
        var shares = new SignatureShare?[count];
        var duplicates = new List<Identifier>();
        var unexpected = new List<Identifier>();
        foreach (var s in signatureShares)
        {
            var index = signingPackage.IndexOf(s.Identifier);
            if (index < 0)
            {
                unexpected.Add(s.Identifier);
            }
            else if (shares[index] is not null)
            {
                duplicates.Add(s.Identifier);
            }
            else
            {
                shares[index] = s;
            }
        }

        if (duplicates.Count > 0)
        {
            return FrostResult<Signature>.Failure(FrostError.DuplicateIdentifier, [.. duplicates.Distinct()]);
        }

        if (unexpected.Count > 0)
        {
            return FrostResult<Signature>.Failure(FrostError.UnexpectedSignatureShare, [.. unexpected]);
        }

        var missing = new List<Identifier>();
        for (var i = 0; i < count; i++)
        {
            if (shares[i] is null)
            {
                missing.Add(commitments[i].Identifier);
            }
        }

        if (missing.Count > 0)
        {
            return FrostResult<Signature>.Failure(FrostError.MissingSignatureShare, [.. missing]);
        }

        var groupKey = publicKeyPackage.GroupPublicKey;
        var context = SigningContext.Create(signingPackage, groupKey);
        if (context.GroupCommitmentIsIdentity)
        {
            return FrostResult<Signature>.Failure(FrostError.IdentityGroupCommitment);
        }

        var group = suite.Group;
        var z = group.Zero;
        for (var i = 0; i < count; i++)
        {
            z = group.Add(z, shares[i]!.Share);
        }

        // Appendix B prime_order_verify, with R and c already at hand.
        if (FrostCore.VerifyEquation(
            suite, groupKey.Element, groupKey.Encoding, context.GroupCommitment, context.GroupCommitmentEncoding!,
            z, context.Challenge, signingPackage.Message))
        {
            return FrostResult<Signature>.Success(new Signature(suite, context.GroupCommitment, z));
        }

        // Identifiable abort (section 5.4): all lambdas with one inversion, then each share on its own.
        var lambdas = Lagrange.Coefficients(group, context.Identifiers, group.Zero);
        var culprits = new List<Identifier>();
        for (var i = 0; i < count; i++)
        {
            var verifyingShare = publicKeyPackage.VerifyingShares[commitments[i].Identifier];
            if (!context.VerifyShare(i, lambdas[i], shares[i]!.Share, verifyingShare.Element))
            {
                culprits.Add(commitments[i].Identifier);
            }
        }

        return culprits.Count > 0
            ? FrostResult<Signature>.Failure(FrostError.InvalidSignatureShare, [.. culprits])
            : FrostResult<Signature>.Failure(FrostError.InvalidSignature);
    }
}
