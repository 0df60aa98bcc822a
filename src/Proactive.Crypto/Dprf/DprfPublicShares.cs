using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Dprf;

/// <summary>
/// What a verifier of DPRF partials knows: the threshold t and every server's public share
/// X_i = x_i*G, given directly or derived from the Feldman commitments of the sharing
/// (X_i = sum_k C_k * i^k, seed 002 "Feldman VSS").
/// </summary>
public sealed class DprfPublicShares
{
    private readonly Dictionary<int, Element> _shares;
    private readonly FeldmanCommitment? _commitments;

    private DprfPublicShares(PrimeOrderGroup group, int threshold, Dictionary<int, Element> shares, FeldmanCommitment? commitments)
    {
        Group = group;
        Threshold = threshold;
        _shares = shares;
        _commitments = commitments;
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>t: the polynomial's degree; t+1 partials determine the output.</summary>
    public int Threshold { get; }

    /// <summary>From known public shares (index 1..n to X_i). None may be the identity.</summary>
    public static DprfPublicShares FromShares(PrimeOrderGroup group, int threshold, IReadOnlyDictionary<int, Element> publicShares)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(publicShares);
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        var copy = new Dictionary<int, Element>();
        foreach (var (index, share) in publicShares)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(index, 1, nameof(publicShares));
            if (group.IsIdentity(share))
            {
                throw new ArgumentException($"The public share of server {index} is the identity.", nameof(publicShares));
            }

            copy[index] = share;
        }

        if (copy.Count < threshold + 1)
        {
            throw new ArgumentException($"At least {threshold + 1} public shares are needed for threshold {threshold}.", nameof(publicShares));
        }

        return new DprfPublicShares(group, threshold, copy, null);
    }

    /// <summary>From Feldman commitments C_0..C_t: any index has a public share; t is their degree.</summary>
    public static DprfPublicShares FromFeldmanCommitments(FeldmanCommitment commitments)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        return new DprfPublicShares(commitments.Group, commitments.Degree, [], commitments);
    }

    /// <summary>X_i for server <paramref name="index"/>; false if unknown or the identity.</summary>
    public bool TryGet(int index, out Element publicShare)
    {
        publicShare = default;
        if (index < 1)
        {
            return false;
        }

        if (_commitments is null)
        {
            return _shares.TryGetValue(index, out publicShare);
        }

        lock (_shares)
        {
            if (!_shares.TryGetValue(index, out publicShare))
            {
                // X_i = sum_k C_k * i^k
                publicShare = _commitments.PublicShare(index);
                _shares[index] = publicShare;
            }
        }

        return !Group.IsIdentity(publicShare);
    }
}
