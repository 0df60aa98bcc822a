// References: docs/BRIEF.md section 3 "Refresh at scale: design notes"; seed 002 section 2
// "Share Update" (zero-constant dealings checked with Feldman VSS); Schwartz-Zippel lemma for the bound.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// Refresh at scale: a dealer refreshing m stored secrets publishes Feldman commitments to ONE
/// polynomial, the combination sum_k rho^k delta_k of its m dealings, and each server checks the same
/// combination of its m sub-shares against it: m scalar multiply-adds and a single Feldman check,
/// instead of m Feldman checks.
/// </summary>
/// <remarks>
/// <para>Powers run k = 0..m-1: the sub-share for secret k (position k in the span) is weighted rho^k.</para>
/// <para>Soundness, stated for the caller's protocol: the dealer must be bound to all its sub-shares
/// (sent encrypted and signed) BEFORE rho is derived from that committed transcript. Suppose some
/// dealing k is bad, i.e. the honest servers' sub-shares s_kj are not the values of one degree-t
/// polynomial with zero constant term. Then a fixed linear functional L over the servers' values
/// (a Lagrange relation over t+2 points, or interpolation at 0) gives d_k = L(s_k.) != 0, while every
/// committed polynomial F with F(0) = 0 has L(F) = 0. If all these servers' checks pass,
/// sum_k rho^k d_k = L(F) = 0: rho is a root of a nonzero polynomial of degree at most m-1, which
/// happens with probability at most (m-1)/q for rho uniform and chosen after the d_k were fixed.</para>
/// </remarks>
public static class CombinedShareCheck
{
    /// <summary>sum_k rho^k v_k for k = 0..m-1 (Horner's rule: m multiplications and additions).</summary>
    public static Scalar Combine(PrimeOrderGroup group, Scalar challenge, ReadOnlySpan<Scalar> values)
    {
        ArgumentNullException.ThrowIfNull(group);
        EnsureUsableChallenge(challenge);
        if (values.IsEmpty)
        {
            throw new ArgumentException("Nothing to combine.", nameof(values));
        }

        // The values are the coefficients of a polynomial evaluated at rho.
        return PolynomialArithmetic.Evaluate(group, values, challenge);
    }

    /// <summary>
    /// The dealer's side: the polynomial sum_k rho^k delta_k whose Feldman commitment it publishes.
    /// All dealings must have the same group and degree. The caller disposes the result.
    /// </summary>
    public static Polynomial CombinePolynomials(Scalar challenge, IReadOnlyList<Polynomial> dealings)
    {
        ArgumentNullException.ThrowIfNull(dealings);
        EnsureUsableChallenge(challenge);
        if (dealings.Count == 0)
        {
            throw new ArgumentException("Nothing to combine.", nameof(dealings));
        }

        var group = dealings[0].Group;
        var degree = dealings[0].Degree;
        foreach (var d in dealings)
        {
            ArgumentNullException.ThrowIfNull(d, nameof(dealings));
            if (!ReferenceEquals(d.Group, group) || d.Degree != degree)
            {
                throw new ArgumentException("All dealings need the same group and degree.", nameof(dealings));
            }
        }

        var coefficients = GC.AllocateArray<Scalar>(degree + 1, pinned: true);
        var column = GC.AllocateArray<Scalar>(dealings.Count, pinned: true);
        try
        {
            for (var j = 0; j <= degree; j++)
            {
                for (var k = 0; k < dealings.Count; k++)
                {
                    column[k] = dealings[k].Coefficient(j);
                }

                coefficients[j] = Combine(group, challenge, column);
            }

            return Polynomial.FromCoefficients(group, coefficients);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(coefficients.AsSpan()));
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(column.AsSpan()));
        }
    }

    /// <summary>
    /// A server's check: sum_k rho^k s_k against the commitment to the combined polynomial, and that
    /// this commitment has a zero constant term (a refresh must not move any secret).
    /// False when either fails; never throws for bad data.
    /// </summary>
    public static bool Verify(
        FeldmanCommitment combinedCommitment, int index, Scalar challenge, ReadOnlySpan<Scalar> shareValues)
    {
        ArgumentNullException.ThrowIfNull(combinedCommitment);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        var group = combinedCommitment.Group;
        return combinedCommitment.HasZeroConstantTerm
            && combinedCommitment.VerifyShare(index, Combine(group, challenge, shareValues));
    }

    private static void EnsureUsableChallenge(Scalar challenge)
    {
        // rho = 0 would weigh only the first secret; a hash-derived challenge is never zero except
        // with negligible probability, so a zero here is a caller's mistake.
        if (challenge.IsZero)
        {
            throw new ArgumentException("The challenge must not be zero.", nameof(challenge));
        }
    }
}
