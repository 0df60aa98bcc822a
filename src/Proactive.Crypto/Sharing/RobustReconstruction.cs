// References: Welch, Berlekamp, "Error correction for algebraic block codes", US patent 4,633,470 (1986);
// the decoder as presented in Gemmell, Sudan, "Highly resilient correctors for polynomials", IPL 43
// (1992), and in McEliece, Sloane, "On sharing secrets and Reed-Solomon codes" (CACM 1981) for the
// link between Shamir shares and Reed-Solomon codewords; seed 002 section 2 "Share Recovery".
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Secrets;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// The outcome of a robust reconstruction: the value (on success) and the servers whose shares were
/// wrong. Owns the reconstructed value; dispose it to wipe it.
/// </summary>
public sealed class RobustReconstructionResult : IDisposable
{
    private readonly SecretScalar? _value;

    private RobustReconstructionResult(SecretScalar? value, int[] wrongShareIndices)
    {
        _value = value;
        WrongShareIndices = wrongShareIndices;
    }

    /// <summary>
    /// True when a polynomial of degree at most t was found that disagrees with at most f (the
    /// caller's maxErrors) of the shares; it is then the only such polynomial. It is the dealt one
    /// only if at most f shares really were wrong: see <see cref="RobustReconstruction"/>.
    /// </summary>
    public bool Succeeded => _value is not null;

    /// <summary>f(at), a transient copy; only on success.</summary>
    public Scalar Value => _value is { } v
        ? v.Value
        : throw new InvalidOperationException("Reconstruction failed: too many wrong shares.");

    /// <summary>
    /// Server indices whose shares disagree with the reconstructed polynomial (or fail their Feldman
    /// check), ascending. On failure of the decoder without commitments this is empty: with too many
    /// errors nobody can tell which shares were wrong.
    /// </summary>
    public IReadOnlyList<int> WrongShareIndices { get; }

    public override string ToString() =>
        Succeeded ? $"RobustReconstructionResult(ok, <redacted>, {WrongShareIndices.Count} wrong)" : "RobustReconstructionResult(failed)";

    public void Dispose() => _value?.Dispose();

    internal static RobustReconstructionResult Success(PrimeOrderGroup group, Scalar value, int[] wrong) =>
        new(new SecretScalar(group, value), wrong);

    internal static RobustReconstructionResult Failure(int[] wrong) => new(null, wrong);
}

/// <summary>
/// Reconstruction that tolerates wrong shares. Shamir shares are a Reed-Solomon codeword, so from
/// n' &gt;= t + 1 + 2f shares with at most f wrong the polynomial is unique and Berlekamp-Welch finds it
/// with one linear system; with commitments at hand, checking each share is simpler and tolerates
/// any number of wrong shares as long as t + 1 good ones remain.
/// </summary>
/// <remarks>
/// <para>Prefer <see cref="ReconstructWithCommitment"/> whenever the dealing's Feldman commitments
/// exist: it proves each share right or wrong, needs no bound on the adversary, and never blames an
/// honest server.</para>
/// <para>Without commitments, the result is only trustworthy when at most f shares are wrong, where f
/// (<c>maxErrors</c>) is the bound the caller's protocol guarantees on corrupted or faulty senders;
/// the decoder cannot check it. Wrong shares beyond f can be coordinated: with t = 1 and four shares,
/// two bad shares on one line with an honest share outvote the two other honest shares, and a decoder
/// that picked its own bound from n' would return that line's secret as a success and name an honest
/// server. That is why f is a parameter, not derived from the share count.</para>
/// </remarks>
public static class RobustReconstruction
{
    /// <summary>
    /// floor((n' - t - 1) / 2): the largest maxErrors that <paramref name="shareCount"/> shares support
    /// (n' &gt;= t + 1 + 2f). Not a bound on the adversary: only the protocol knows that.
    /// </summary>
    public static int CorrectableErrors(int shareCount, int threshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(shareCount, threshold + 1);
        return (shareCount - threshold - 1) / 2;
    }

    /// <summary>The secret f(0) from shares of which at most <paramref name="maxErrors"/> are wrong.</summary>
    /// <inheritdoc cref="Reconstruct(PrimeOrderGroup, IReadOnlyList{SecretShare}, int, int, Scalar)" path="/param"/>
    public static RobustReconstructionResult Reconstruct(
        PrimeOrderGroup group, IReadOnlyList<SecretShare> shares, int threshold, int maxErrors) =>
        Reconstruct(group, shares, threshold, maxErrors, group.Zero);

    /// <summary>
    /// f(<paramref name="at"/>) by the Berlekamp-Welch decoder with e = <paramref name="maxErrors"/>:
    /// find E (monic, degree e) and Q (degree &lt;= t + e) with Q(x_i) = y_i E(x_i) for every share, by
    /// Gaussian elimination over the scalar field; then f = Q / E. The result is accepted only if f has
    /// degree &lt;= t and disagrees with at most e shares; with n' &gt;= t + 1 + 2e that makes it the unique
    /// such polynomial. Otherwise the result says failed (never an exception for bad shares).
    /// </summary>
    /// <remarks>
    /// Guarantee: if at most <paramref name="maxErrors"/> shares are wrong, the result succeeds with the
    /// dealt polynomial's value and names exactly the wrong shares. If more are wrong, the result is
    /// either a failure or, when the wrong shares are coordinated, a different polynomial reported as
    /// a success with honest servers named as wrong; no decoder can tell it from the real one. Use
    /// <see cref="ReconstructWithCommitment"/> when commitments exist.
    /// </remarks>
    /// <param name="group">The group of every share.</param>
    /// <param name="shares">n' shares at distinct indices, some possibly wrong.</param>
    /// <param name="threshold">t, the degree of the dealt polynomial.</param>
    /// <param name="maxErrors">
    /// f, how many of these shares the caller's protocol allows to be wrong (e.g. the number of
    /// corruptible servers among the senders). Needs n' &gt;= t + 1 + 2f, else ArgumentException.
    /// </param>
    /// <param name="at">The point to evaluate at: 0 for the secret, a server index to rebuild its share.</param>
    public static RobustReconstructionResult Reconstruct(
        PrimeOrderGroup group, IReadOnlyList<SecretShare> shares, int threshold, int maxErrors, Scalar at)
    {
        ValidateShares(group, shares);
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        ArgumentOutOfRangeException.ThrowIfNegative(maxErrors);
        var n = shares.Count;
        if (n < threshold + 1 + (2L * maxErrors))
        {
            throw new ArgumentException(
                $"Correcting up to {maxErrors} wrong shares at threshold {threshold} needs at least {threshold + 1 + (2L * maxErrors)} shares, got {n}.",
                nameof(maxErrors));
        }

        var e = maxErrors;
        var qCount = threshold + e + 1;
        var unknowns = qCount + e;

        var xs = new Scalar[n];
        var ys = GC.AllocateArray<Scalar>(n, pinned: true);
        // Augmented matrix, row-major: n rows of (unknowns + 1) entries; derived from secret shares.
        var width = unknowns + 1;
        var matrix = GC.AllocateArray<Scalar>(n * width, pinned: true);
        var solution = GC.AllocateArray<Scalar>(unknowns, pinned: true);
        var f = GC.AllocateArray<Scalar>(threshold + 1, pinned: true);
        try
        {
            for (var i = 0; i < n; i++)
            {
                xs[i] = shares[i].X;
                ys[i] = shares[i].Value;
                var row = matrix.AsSpan(i * width, width);
                // sum_k Q_k x^k - y * sum_{k<e} E_k x^k = y * x^e (x^0..x^(t+e) first, e < t + e + 1).
                PolynomialArithmetic.Powers(group, xs[i], row[..qCount]);
                for (var k = 0; k < e; k++)
                {
                    row[qCount + k] = group.Negate(group.Multiply(ys[i], row[k]));
                }

                row[unknowns] = group.Multiply(ys[i], row[e]);
            }

            if (!TrySolve(group, matrix, n, unknowns, solution))
            {
                return RobustReconstructionResult.Failure([]);
            }

            // E = x^e + sum_{k<e} E_k x^k is monic, so the division needs no inversion.
            var errorLocator = new Scalar[e + 1];
            solution.AsSpan(qCount, e).CopyTo(errorLocator);
            errorLocator[e] = group.One;
            if (!TryDivideExactly(group, solution.AsSpan(0, qCount), errorLocator, f))
            {
                return RobustReconstructionResult.Failure([]);
            }

            var wrong = new List<int>();
            for (var i = 0; i < n; i++)
            {
                if (PolynomialArithmetic.Evaluate(group, f, xs[i]) != ys[i])
                {
                    wrong.Add(shares[i].Index);
                }
            }

            if (wrong.Count > e)
            {
                return RobustReconstructionResult.Failure([]);
            }

            wrong.Sort();
            return RobustReconstructionResult.Success(group, PolynomialArithmetic.Evaluate(group, f, at), wrong.ToArray());
        }
        finally
        {
            Wipe(ys);
            Wipe(matrix);
            Wipe(solution);
            Wipe(f);
        }
    }

    /// <summary>
    /// The preferred path whenever the dealing's Feldman commitments are known: check every share
    /// against them, name the ones that fail, and interpolate f(<paramref name="at"/>) from t + 1 good
    /// ones. Needs no bound on the number of wrong shares, and names only shares proven wrong.
    /// Fails (without throwing) when fewer than t + 1 shares pass.
    /// </summary>
    public static RobustReconstructionResult ReconstructWithCommitment(
        FeldmanCommitment commitment, IReadOnlyList<SecretShare> shares, Scalar at)
    {
        ArgumentNullException.ThrowIfNull(commitment);
        ValidateShares(commitment.Group, shares);
        var good = new List<SecretShare>();
        var wrong = new List<int>();
        foreach (var share in shares)
        {
            if (commitment.VerifyShare(share))
            {
                good.Add(share);
            }
            else
            {
                wrong.Add(share.Index);
            }
        }

        wrong.Sort();
        var needed = commitment.Degree + 1;
        if (good.Count < needed)
        {
            return RobustReconstructionResult.Failure(wrong.ToArray());
        }

        var value = Shamir.Interpolate(commitment.Group, good.GetRange(0, needed), at);
        return RobustReconstructionResult.Success(commitment.Group, value, wrong.ToArray());
    }

    private static void ValidateShares(PrimeOrderGroup group, IReadOnlyList<SecretShare> shares)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(shares);
        var seen = new HashSet<int>();
        foreach (var share in shares)
        {
            ArgumentNullException.ThrowIfNull(share, nameof(shares));
            if (!ReferenceEquals(share.Group, group))
            {
                throw new ArgumentException($"Expected {group.Name} shares, got {share.Group.Name}.", nameof(shares));
            }

            if (!seen.Add(share.Index))
            {
                throw new ArgumentException($"Share index {share.Index} appears twice.", nameof(shares));
            }
        }
    }

    /// <summary>
    /// Gauss-Jordan elimination of the augmented matrix; free unknowns are set to zero. False when the
    /// system is inconsistent (only possible with more than e wrong shares).
    /// </summary>
    private static bool TrySolve(PrimeOrderGroup group, Scalar[] matrix, int rows, int unknowns, Span<Scalar> solution)
    {
        var width = unknowns + 1;
        var pivotColumnOfRow = new int[rows];
        var rank = 0;
        for (var column = 0; column < unknowns && rank < rows; column++)
        {
            var pivot = -1;
            for (var r = rank; r < rows; r++)
            {
                if (!matrix[(r * width) + column].IsZero)
                {
                    pivot = r;
                    break;
                }
            }

            if (pivot < 0)
            {
                continue;
            }

            if (pivot != rank)
            {
                var a = matrix.AsSpan(pivot * width, width);
                var b = matrix.AsSpan(rank * width, width);
                for (var c = 0; c < width; c++)
                {
                    (a[c], b[c]) = (b[c], a[c]);
                }
            }

            var pivotRow = matrix.AsSpan(rank * width, width);
            var inverse = group.Invert(pivotRow[column]);
            for (var c = column; c < width; c++)
            {
                pivotRow[c] = group.Multiply(pivotRow[c], inverse);
            }

            for (var r = 0; r < rows; r++)
            {
                if (r == rank)
                {
                    continue;
                }

                var row = matrix.AsSpan(r * width, width);
                var factor = row[column];
                if (factor.IsZero)
                {
                    continue;
                }

                for (var c = column; c < width; c++)
                {
                    row[c] = group.Subtract(row[c], group.Multiply(factor, pivotRow[c]));
                }
            }

            pivotColumnOfRow[rank] = column;
            rank++;
        }

        // Rows below the rank have all-zero coefficients: their right-hand side must be zero too.
        for (var r = rank; r < rows; r++)
        {
            if (!matrix[(r * width) + unknowns].IsZero)
            {
                return false;
            }
        }

        solution.Fill(group.Zero);
        for (var r = 0; r < rank; r++)
        {
            solution[pivotColumnOfRow[r]] = matrix[(r * width) + unknowns];
        }

        return true;
    }

    /// <summary>quotient = dividend / divisor for a monic divisor; false if the remainder is not zero
    /// or the quotient does not fit in <paramref name="quotient"/>.</summary>
    private static bool TryDivideExactly(
        PrimeOrderGroup group, ReadOnlySpan<Scalar> dividend, ReadOnlySpan<Scalar> monicDivisor, Span<Scalar> quotient)
    {
        var remainder = GC.AllocateArray<Scalar>(dividend.Length, pinned: true);
        try
        {
            dividend.CopyTo(remainder);
            var divisorDegree = monicDivisor.Length - 1;
            quotient.Fill(group.Zero);
            for (var k = remainder.Length - 1; k >= divisorDegree; k--)
            {
                var lead = remainder[k];
                if (lead.IsZero)
                {
                    continue;
                }

                var position = k - divisorDegree;
                if (position >= quotient.Length)
                {
                    return false;
                }

                quotient[position] = lead;
                for (var j = 0; j <= divisorDegree; j++)
                {
                    remainder[position + j] = group.Subtract(remainder[position + j], group.Multiply(lead, monicDivisor[j]));
                }
            }

            foreach (var r in remainder)
            {
                if (!r.IsZero)
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            Wipe(remainder);
        }
    }

    private static void Wipe(Scalar[] values) => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(values.AsSpan()));
}
