using Proactive.Crypto.Groups;
using Proactive.Crypto.Secrets;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// Server <see cref="Index"/>'s share f(index) of a secret. Owns its value: wiped on dispose,
/// printed as <c>&lt;redacted&gt;</c>. Indices are 1..n (0 is where the secret lives).
/// </summary>
public sealed class SecretShare : IDisposable
{
    private readonly SecretScalar _value;

    public SecretShare(PrimeOrderGroup group, int index, Scalar value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        Index = index;
        _value = new SecretScalar(group, value);
    }

    public int Index { get; }

    public PrimeOrderGroup Group => _value.Group;

    /// <summary>The index as a field element, the x of the point (x, f(x)).</summary>
    public Scalar X => Group.FromUInt64((ulong)Index);

    /// <summary>The share value, as a transient copy for arithmetic.</summary>
    public Scalar Value => _value.Value;

    public override string ToString() => $"SecretShare({Index}, <redacted>)";

    public void Dispose() => _value.Dispose();
}

/// <summary>Shamir secret sharing over a prime-order group's scalar field (Shamir 1979).</summary>
public static class Shamir
{
    /// <summary>
    /// Splits <paramref name="secret"/> into shares f(1)..f(n) of a random degree-<paramref name="threshold"/>
    /// polynomial with f(0) = secret: any threshold+1 shares reconstruct it, any threshold learn nothing.
    /// Returns the polynomial too (the caller commits to it, then disposes it).
    /// </summary>
    public static (SecretShare[] Shares, Polynomial Polynomial) Split(
        PrimeOrderGroup group, Scalar secret, int threshold, int count, Random.IRandomSource random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, threshold + 1);
        var polynomial = Polynomial.Random(group, threshold, secret, random);
        var shares = new SecretShare[count];
        for (var i = 1; i <= count; i++)
        {
            shares[i - 1] = new SecretShare(group, i, polynomial.Evaluate(group.FromUInt64((ulong)i)));
        }

        return (shares, polynomial);
    }

    /// <summary>
    /// f(<paramref name="at"/>) from shares at distinct indices (f(0) = the secret). Uses all shares given:
    /// pass exactly threshold+1 correct ones, or use <c>RobustReconstruction</c> when some may be wrong.
    /// </summary>
    public static Scalar Interpolate(PrimeOrderGroup group, IReadOnlyList<SecretShare> shares, Scalar at)
    {
        if (shares.Count == 0)
        {
            throw new ArgumentException("No shares.", nameof(shares));
        }

        var xs = new Scalar[shares.Count];
        for (var i = 0; i < xs.Length; i++)
        {
            xs[i] = shares[i].X;
        }

        var lambdas = Lagrange.Coefficients(group, xs, at);
        var value = group.Zero;
        for (var i = 0; i < xs.Length; i++)
        {
            value = group.Add(value, group.Multiply(lambdas[i], shares[i].Value));
        }

        return value;
    }

    /// <summary>The secret f(0).</summary>
    public static Scalar Reconstruct(PrimeOrderGroup group, IReadOnlyList<SecretShare> shares) =>
        Interpolate(group, shares, group.Zero);
}
