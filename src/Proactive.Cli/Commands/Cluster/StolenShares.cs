// References: docs/BRIEF.md section 5 (the demo: shares stolen in different periods do not combine);
// seed 002 (Numao) section 2 "Share Update" (a refresh adds a random sharing of zero, so shares of
// different periods lie on unrelated polynomials); Shamir 1979 (t + 1 shares determine f(0)).
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Refresh;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// What an attacker does with stolen share vectors: interpolate the network-key shares (the first
/// value of each vector, at x = the server id) at 0, and check the result against the network's
/// public key. Shares of one period reconstruct it from t + 1 servers; shares of different periods
/// do not, because every refresh re-randomizes the polynomial.
/// </summary>
internal static partial class StolenShares
{
    /// <summary>How an attempt ended.</summary>
    internal enum Outcome
    {
        Reconstructed,
        DoNotCombine,
        TooFewShares,
        Unusable,
    }

    /// <summary>The outcome and a sentence for the user.</summary>
    internal sealed record Result(Outcome Outcome, string Message);

    /// <summary>
    /// Tries to reconstruct the network key from <paramref name="files"/> (stolen <c>.bin</c> files or
    /// their <c>.json</c> descriptions) and compares it with <paramref name="networkKey"/> (the encoded
    /// public key). Never prints or returns the secret.
    /// </summary>
    internal static Result TryCombine(PrimeOrderGroup group, int threshold, IReadOnlyList<string> files, ReadOnlySpan<byte> networkKey)
    {
        var shares = new List<SecretShare>();
        var periods = new List<string>();
        try
        {
            foreach (var file in files)
            {
                var binary = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? Path.ChangeExtension(file, ".bin") : file;
                byte[] bytes;
                try
                {
                    bytes = File.ReadAllBytes(binary);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new Result(Outcome.Unusable, $"cannot read {binary}: {e.Message}");
                }

                try
                {
                    if (!ShareVector.TryDecode(bytes, group, out var vector))
                    {
                        return new Result(Outcome.Unusable, $"{binary} is not a {group.Name} share vector (a corrupted or foreign file).");
                    }

                    using (vector)
                    {
                        if (shares.Any(s => s.Index == vector.Index))
                        {
                            return new Result(Outcome.Unusable, $"two files hold server {vector.Index}'s shares; give one file per server.");
                        }

                        shares.Add(new SecretShare(group, vector.Index, vector[0]));
                        periods.Add(PeriodOf(binary));
                    }
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(bytes);
                }
            }

            var needed = threshold + 1;
            if (shares.Count < needed)
            {
                return new Result(Outcome.TooFewShares, $"{shares.Count} share(s) from different servers; the network key needs at least t + 1 = {needed} (any {threshold} reveal nothing).");
            }

            var secret = Shamir.Reconstruct(group, shares);
            var candidate = group.EncodeElement(group.MultiplyBase(secret), allowIdentity: true);
            if (CryptographicOperations.FixedTimeEquals(candidate, networkKey))
            {
                return new Result(Outcome.Reconstructed, $"reconstructed the network key from servers {string.Join(", ", shares.Select(s => s.Index))} (stolen in period {string.Join(", ", periods.Distinct())}).");
            }

            var distinct = periods.Distinct().ToList();
            return distinct.Count > 1
                ? new Result(Outcome.DoNotCombine, $"the shares do not combine (stolen in periods {string.Join(", ", distinct)}: refreshed shares of different periods are unrelated).")
                : new Result(Outcome.DoNotCombine, $"the shares do not combine (all stolen in period {distinct[0]}, yet they do not give the network key: damaged shares, or a network that was set up again).");
        }
        finally
        {
            foreach (var share in shares)
            {
                share.Dispose();
            }
        }
    }

    /// <summary>The period a stolen file was taken in: from its <c>.json</c> description, else from its name, else "?".</summary>
    private static string PeriodOf(string binary)
    {
        var description = Path.ChangeExtension(binary, ".json");
        if (File.Exists(description))
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(description));
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("period", out var period)
                    && period.TryGetUInt64(out var value))
                {
                    return value.ToString(CultureInfo.InvariantCulture);
                }
            }
            catch (JsonException)
            {
                // Fall back to the name.
            }
        }

        var match = PeriodInName().Match(Path.GetFileName(binary));
        return match.Success ? match.Groups[1].Value : "?";
    }

    [GeneratedRegex(@"-period-(\d+)\.bin$", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodInName();
}
