// References: RFC 9591 Appendix C (trusted_dealer_keygen), C.1 (secret_share_shard), C.2 (vss_commit,
// vss_verify, derive_group_info); section 4.2 (polynomial evaluation).
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Secrets;
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Frost;

/// <summary>
/// Key generation by a trusted dealer (RFC 9591 Appendix C): Shamir shares of a group secret with a Feldman
/// commitment, each share checked against it before it is handed out.
/// </summary>
public static class TrustedDealer
{
    /// <summary>
    /// RFC 9591 Appendix C trusted_dealer_keygen with MIN_PARTICIPANTS = <paramref name="minSigners"/>, MAX_PARTICIPANTS =
    /// <paramref name="maxSigners"/>: a random polynomial of degree min-1 with f(0) = the group secret (random and
    /// nonzero when <paramref name="groupSecret"/> is null), shares f(1)..f(max) for identifiers 1..max.
    /// </summary>
    public static TrustedDealerOutput Generate(Ciphersuite suite, SecretScalar? groupSecret, int minSigners, int maxSigners, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(random);
        FrostCore.CheckSignerBounds(minSigners, maxSigners);
        var group = suite.Group;
        if (groupSecret is not null && groupSecret.Group != group)
        {
            throw new ArgumentException("The group secret belongs to another group.", nameof(groupSecret));
        }

        var secret = groupSecret?.Value ?? group.RandomNonzeroScalar(random);
        if (secret.IsZero)
        {
            throw new ArgumentException("A zero group secret makes the identity a public key.", nameof(groupSecret));
        }

        // secret_share_shard (C.1): coefficients = [s, random_scalar() x (MIN_PARTICIPANTS - 1)].
        using var polynomial = Polynomial.Random(group, minSigners - 1, secret, random);
        return Deal(suite, polynomial, maxSigners);
    }

    /// <summary>
    /// The deterministic path of <see cref="Generate"/>: shares of the polynomial with the given coefficients
    /// (lowest power first, so <paramref name="coefficients"/>[0] is the group secret and MIN_PARTICIPANTS is
    /// their count). Test vectors give these as group_secret_key and share_polynomial_coefficients.
    /// </summary>
    public static TrustedDealerOutput FromCoefficients(Ciphersuite suite, ReadOnlySpan<Scalar> coefficients, int maxSigners)
    {
        ArgumentNullException.ThrowIfNull(suite);
        FrostCore.CheckSignerBounds(coefficients.Length, maxSigners);
        if (coefficients[0].IsZero)
        {
            throw new ArgumentException("A zero group secret makes the identity a public key.", nameof(coefficients));
        }

        using var polynomial = Polynomial.FromCoefficients(suite.Group, coefficients);
        return Deal(suite, polynomial, maxSigners);
    }

    /// <summary>
    /// RFC 9591 Appendix C.2 vss_verify: sk_i * G == sum_j C_j * i^j. What a participant runs on the share it
    /// receives, before trusting it. False (not an exception) for an identifier or commitment of another group.
    /// </summary>
    public static bool VerifyShare(Ciphersuite suite, Identifier identifier, Scalar share, FeldmanCommitment vssCommitment)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(vssCommitment);
        if (identifier.Group != suite.Group || vssCommitment.Group != suite.Group)
        {
            return false;
        }

        return vssCommitment.VerifyEvaluation(identifier.Value, share);
    }

    /// <summary>
    /// RFC 9591 Appendix C.2 derive_group_info: PK = C_0 and PK_i = sum_j C_j * i^j for identifiers 1..max,
    /// everything a coordinator needs, from the public commitment alone.
    /// </summary>
    public static PublicKeyPackage DeriveGroupInfo(Ciphersuite suite, int maxSigners, FeldmanCommitment vssCommitment)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(vssCommitment);
        if (vssCommitment.Group != suite.Group)
        {
            throw new ArgumentException("The VSS commitment belongs to another group.", nameof(vssCommitment));
        }

        var minSigners = vssCommitment.Degree + 1;
        FrostCore.CheckSignerBounds(minSigners, maxSigners);
        var verifyingShares = new VerifyingShare[maxSigners];
        for (var i = 1; i <= maxSigners; i++)
        {
            var identifier = Identifier.FromInt(suite, i);
            verifyingShares[i - 1] = new VerifyingShare(suite, identifier, vssCommitment.EvaluateInExponent(identifier.Value));
        }

        return new PublicKeyPackage(new GroupPublicKey(suite, vssCommitment.ConstantTerm), verifyingShares, minSigners);
    }

    private static TrustedDealerOutput Deal(Ciphersuite suite, Polynomial polynomial, int maxSigners)
    {
        var minSigners = polynomial.Degree + 1;

        // vss_commit (C.2): C_j = a_j * G.
        var commitment = polynomial.CommitFeldman();
        var groupKey = new GroupPublicKey(suite, commitment.ConstantTerm);
        var keyPackages = new KeyPackage[maxSigners];
        var verifyingShares = new VerifyingShare[maxSigners];
        try
        {
            for (var i = 1; i <= maxSigners; i++)
            {
                var identifier = Identifier.FromInt(suite, i);
                var package = new KeyPackage(new SigningShare(suite, identifier, polynomial.Evaluate(identifier.Value)), groupKey, minSigners, maxSigners);
                keyPackages[i - 1] = package;

                // vss_verify (C.2) per participant; the verifying share it checks is derive_group_info's PK_i.
                if (package.VerifyingShare.Element != commitment.EvaluateInExponent(identifier.Value))
                {
                    throw new InvalidOperationException($"Internal error: the share for {identifier} does not match the VSS commitment.");
                }

                verifyingShares[i - 1] = package.VerifyingShare;
            }
        }
        catch
        {
            foreach (var package in keyPackages)
            {
                package?.Dispose();
            }

            throw;
        }

        return new TrustedDealerOutput(keyPackages, new PublicKeyPackage(groupKey, verifyingShares, minSigners), commitment);
    }
}

/// <summary>
/// What the dealer hands out: one <see cref="KeyPackage"/> per participant (secret: send each only to its owner,
/// over a confidential channel), the public key package and the VSS commitment. Dispose to wipe the shares.
/// </summary>
public sealed class TrustedDealerOutput : IDisposable
{
    internal TrustedDealerOutput(KeyPackage[] keyPackages, PublicKeyPackage publicKeyPackage, FeldmanCommitment vssCommitment)
    {
        KeyPackages = keyPackages;
        PublicKeyPackage = publicKeyPackage;
        VssCommitment = vssCommitment;
    }

    /// <summary>Key packages for identifiers 1..MAX_PARTICIPANTS, in that order.</summary>
    public IReadOnlyList<KeyPackage> KeyPackages { get; }

    public PublicKeyPackage PublicKeyPackage { get; }

    /// <summary>The Feldman commitment C_0..C_(min-1) to the sharing polynomial (C_0 = PK).</summary>
    public FeldmanCommitment VssCommitment { get; }

    public override string ToString() => $"TrustedDealerOutput({PublicKeyPackage}, <redacted>)";

    public void Dispose()
    {
        foreach (var package in KeyPackages)
        {
            package.Dispose();
        }
    }
}
