using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// Lagrange interpolation coefficients at any point: for distinct x_0..x_m and a target x,
/// lambda_i(x) = prod_{j != i} (x - x_j) / (x_i - x_j), so f(x) = sum_i lambda_i(x) f(x_i) for every
/// polynomial f of degree at most m. With x = 0 this recovers a secret; with x = r it rebuilds the
/// share of server r (seed 002, "Share Recovery").
/// </summary>
public static class Lagrange
{
    /// <summary>All coefficients lambda_i(<paramref name="at"/>) for the given distinct points, with
    /// one field inversion in total (Montgomery's trick on the denominators).</summary>
    public static Scalar[] Coefficients(PrimeOrderGroup group, ReadOnlySpan<Scalar> xs, Scalar at)
    {
        var result = new Scalar[xs.Length];
        Coefficients(group, xs, at, result);
        return result;
    }

    public static void Coefficients(PrimeOrderGroup group, ReadOnlySpan<Scalar> xs, Scalar at, Span<Scalar> destination)
    {
        var m = xs.Length;
        if (m == 0)
        {
            throw new ArgumentException("At least one point is needed.", nameof(xs));
        }

        if (destination.Length != m)
        {
            throw new ArgumentException("One coefficient per point.", nameof(destination));
        }

        // If the target is itself one of the points, f(at) = f(x_i): the coefficients are a unit vector
        // (the general formula would divide by zero in the numerator's sense, and it is cheaper).
        for (var i = 0; i < m; i++)
        {
            if (xs[i] == at)
            {
                EnsureDistinct(xs);
                destination.Fill(group.Zero);
                destination[i] = group.One;
                return;
            }
        }

        var numerators = new Scalar[m];
        var denominators = new Scalar[m];
        for (var i = 0; i < m; i++)
        {
            (numerators[i], denominators[i]) = Fraction(group, xs, i, at);
        }

        // prefix[i] = d_0 * ... * d_(i-1); one inversion of the full product, then walk back.
        var prefix = new Scalar[m];
        var running = group.One;
        for (var i = 0; i < m; i++)
        {
            prefix[i] = running;
            running = group.Multiply(running, denominators[i]);
        }

        var inverse = group.Invert(running);
        for (var i = m - 1; i >= 0; i--)
        {
            var inverseOfDi = group.Multiply(inverse, prefix[i]);
            inverse = group.Multiply(inverse, denominators[i]);
            destination[i] = group.Multiply(numerators[i], inverseOfDi);
        }
    }

    /// <summary>lambda_i(at) for one index (RFC 9591 section 4.2 derive_interpolating_value when at = 0).</summary>
    public static Scalar Coefficient(PrimeOrderGroup group, ReadOnlySpan<Scalar> xs, int i, Scalar at)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, xs.Length);
        var (numerator, denominator) = Fraction(group, xs, i, at);
        return group.Multiply(numerator, group.Invert(denominator));
    }

    /// <summary>
    /// lambda_i(at) as the unreduced fraction prod_{j != i} (at - x_j) over prod_{j != i} (x_i - x_j);
    /// throws when x_i equals another point (the denominator would be zero).
    /// </summary>
    private static (Scalar Numerator, Scalar Denominator) Fraction(PrimeOrderGroup group, ReadOnlySpan<Scalar> xs, int i, Scalar at)
    {
        var numerator = group.One;
        var denominator = group.One;
        for (var j = 0; j < xs.Length; j++)
        {
            if (j == i)
            {
                continue;
            }

            var difference = group.Subtract(xs[i], xs[j]);
            if (difference.IsZero)
            {
                throw new ArgumentException("Interpolation points must be distinct.", nameof(xs));
            }

            numerator = group.Multiply(numerator, group.Subtract(at, xs[j]));
            denominator = group.Multiply(denominator, difference);
        }

        return (numerator, denominator);
    }

    private static void EnsureDistinct(ReadOnlySpan<Scalar> xs)
    {
        for (var i = 0; i < xs.Length; i++)
        {
            for (var j = i + 1; j < xs.Length; j++)
            {
                if (xs[i] == xs[j])
                {
                    throw new ArgumentException("Interpolation points must be distinct.", nameof(xs));
                }
            }
        }
    }
}
