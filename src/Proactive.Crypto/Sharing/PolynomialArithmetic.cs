using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// The few polynomial loops the sharing code needs, written once: Horner evaluation over scalars,
/// the powers x^0..x^(count-1) that a commitment is evaluated with, and coefficient-wise addition of
/// commitment vectors (Feldman and Pedersen commitments are both linear in the polynomial).
/// </summary>
internal static class PolynomialArithmetic
{
    /// <summary>
    /// sum_k c_k x^k by Horner's rule (coefficients lowest power first): one multiplication and one
    /// addition per coefficient. Callers pass secret coefficients too; nothing is copied.
    /// </summary>
    internal static Scalar Evaluate(PrimeOrderGroup group, ReadOnlySpan<Scalar> coefficients, Scalar x)
    {
        var value = coefficients[^1];
        for (var k = coefficients.Length - 2; k >= 0; k--)
        {
            value = group.Add(group.Multiply(value, x), coefficients[k]);
        }

        return value;
    }

    /// <summary>x^0, x^1, ..., x^(count-1).</summary>
    internal static Scalar[] Powers(PrimeOrderGroup group, Scalar x, int count)
    {
        var powers = new Scalar[count];
        Powers(group, x, powers);
        return powers;
    }

    /// <summary>Writes x^0, x^1, ... into every slot of <paramref name="destination"/>.</summary>
    internal static void Powers(PrimeOrderGroup group, Scalar x, Span<Scalar> destination)
    {
        var power = group.One;
        for (var j = 0; j < destination.Length; j++)
        {
            destination[j] = power;
            power = group.Multiply(power, x);
        }
    }

    /// <summary>
    /// a + b coefficient by coefficient, where the shorter vector counts as padded with the identity:
    /// the commitment to the sum of two committed polynomials, of the larger degree.
    /// </summary>
    internal static Element[] AddCommitments(PrimeOrderGroup group, Element[] a, Element[] b)
    {
        var (longer, shorter) = a.Length >= b.Length ? (a, b) : (b, a);
        var sum = (Element[])longer.Clone();
        for (var k = 0; k < shorter.Length; k++)
        {
            sum[k] = group.Add(sum[k], shorter[k]);
        }

        return sum;
    }
}
