// References: docs/BRIEF.md section 1 ("Model and parameters"); toolkit (seed 001) section 2.
using System.Diagnostics.CodeAnalysis;

namespace Proactive.Protocols.Cluster;

/// <summary>
/// The thresholds of a network of <see cref="ServerCount"/> servers (ids 1..n):
/// <see cref="Threshold"/> t is the privacy threshold (any t servers learn nothing; t+1 shares sign,
/// decrypt or reconstruct: polynomials have degree t), <see cref="Faults"/> f is how many servers may
/// deviate arbitrarily. Certificates need <see cref="Quorum"/> = n - f signatures.
/// </summary>
public sealed record ClusterParameters
{
    /// <summary>Server ids are 1..n and travel as 16-bit values; 255 keeps every list we encode small.</summary>
    public const int MaxServers = 255;

    private ClusterParameters(int serverCount, int threshold, int faults)
    {
        ServerCount = serverCount;
        Threshold = threshold;
        Faults = faults;
    }

    /// <summary>n.</summary>
    public int ServerCount { get; }

    /// <summary>t: the degree of every sharing polynomial.</summary>
    public int Threshold { get; }

    /// <summary>f: Byzantine servers tolerated.</summary>
    public int Faults { get; }

    /// <summary>n - f: signatures on a certificate, and servers that must answer for progress.</summary>
    public int Quorum => ServerCount - Faults;

    /// <summary>t + 1: shares that reconstruct, signers that sign.</summary>
    public int ReconstructionThreshold => Threshold + 1;

    /// <summary>Server ids 1..n.</summary>
    public IEnumerable<int> Servers => Enumerable.Range(1, ServerCount);

    /// <summary>
    /// Checks the rules of BRIEF section 1 and says which one failed:
    /// n &gt;= 3f + 1 (Byzantine agreement), f &lt;= t (the f Byzantine servers are among those the
    /// adversary reads), t + 1 &lt;= n - f (the honest servers alone can reconstruct and sign).
    /// </summary>
    public static bool TryCreate(int serverCount, int threshold, int faults, [NotNullWhen(true)] out ClusterParameters? parameters, [NotNullWhen(false)] out string? error)
    {
        parameters = null;
        error = Validate(serverCount, threshold, faults);
        if (error is not null)
        {
            return false;
        }

        parameters = new ClusterParameters(serverCount, threshold, faults);
        return true;
    }

    /// <summary>As <see cref="TryCreate"/>, for values a caller vouches for.</summary>
    /// <exception cref="ArgumentException">The message names the rule that fails.</exception>
    public static ClusterParameters Create(int serverCount, int threshold, int faults) =>
        TryCreate(serverCount, threshold, faults, out var parameters, out var error)
            ? parameters
            : throw new ArgumentException(error);

    /// <summary>The defaults of BRIEF section 1: f = floor((n-1)/3), t = floor((n-1)/2).</summary>
    public static ClusterParameters Default(int serverCount) =>
        Create(serverCount, (serverCount - 1) / 2, (serverCount - 1) / 3);

    private static string? Validate(int n, int t, int f)
    {
        if (n < 1 || n > MaxServers)
        {
            return $"n = {n}: the number of servers must be between 1 and {MaxServers}.";
        }

        if (t < 0 || f < 0)
        {
            return $"t = {t}, f = {f}: thresholds cannot be negative.";
        }

        if (n < (3 * f) + 1)
        {
            return $"n >= 3f + 1 fails: n = {n}, f = {f} (Byzantine agreement needs more than three times as many servers as faults; at most f = {(n - 1) / 3}).";
        }

        if (f > t)
        {
            return $"f <= t fails: f = {f}, t = {t} (a Byzantine server also reads its shares, so the privacy threshold must cover the faults).";
        }

        if (t + 1 > n - f)
        {
            return $"t + 1 <= n - f fails: t = {t}, n = {n}, f = {f} (the n - f honest servers must hold t + 1 shares to sign and reconstruct; at most t = {n - f - 1}).";
        }

        return null;
    }

    public override string ToString() => $"n={ServerCount}, t={Threshold}, f={Faults}";
}
