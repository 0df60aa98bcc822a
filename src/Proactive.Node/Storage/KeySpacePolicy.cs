// References: toolkit (seed 001) section 3.2; docs/NODE.md "Storage" (which keys are public).
using Proactive.Protocols.Controller;

namespace Proactive.Node.Storage;

/// <summary>
/// Which <see cref="DataSpace"/> a key the controller persists (<c>Outbox.Persist</c>) belongs to.
/// Everything is <see cref="DataSpace.Private"/> unless it is on the explicit public list: a key
/// someone forgets to classify is then erased for real and never handed to a peer, which is the safe
/// mistake; the opposite mistake would leak a share.
/// </summary>
/// <remarks>
/// The default public list is the network-wide state the controller persists: the public state of the
/// last commit (<see cref="ServerController.PublicStateKey"/>: group keys and commitments, the same at
/// every honest server) and this server's share-vector digest (<see cref="ServerController.DigestKey"/>),
/// which the network records in the period root it signs. The committed period
/// (<see cref="ServerController.CommittedPeriodKey"/>) stays private: it is not secret, but it says
/// which period this server's own shares belong to, so it must never be replaced by a peer's copy.
/// Staging copies (<c>refresh/...</c>, <c>recovery/...</c>), agreement state, DKG state and nonce records
/// are protocol private state.
/// </remarks>
public sealed class KeySpacePolicy
{
    private readonly HashSet<string> _publicKeys;
    private readonly string[] _publicPrefixes;

    /// <summary>A policy with <paramref name="publicKeys"/> and every key under <paramref name="publicPrefixes"/> public, everything else private.</summary>
    public KeySpacePolicy(IEnumerable<string> publicKeys, IEnumerable<string>? publicPrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(publicKeys);
        _publicKeys = new HashSet<string>(publicKeys, StringComparer.Ordinal);
        _publicPrefixes = publicPrefixes?.ToArray() ?? [];
        if (_publicKeys.Any(string.IsNullOrEmpty) || _publicPrefixes.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Public keys and prefixes must be non-empty (an empty prefix would make everything public).");
        }
    }

    /// <summary>The controller's public keys (<see cref="ServerController.PublicStateKey"/>, <see cref="ServerController.DigestKey"/>); the rest is private.</summary>
    public static KeySpacePolicy Default { get; } = new([ServerController.PublicStateKey, ServerController.DigestKey]);

    /// <summary>The keys that are public exactly.</summary>
    public IReadOnlyCollection<string> PublicKeys => _publicKeys;

    /// <summary>The prefixes under which every key is public.</summary>
    public IReadOnlyList<string> PublicPrefixes => _publicPrefixes;

    /// <summary>The space <paramref name="key"/> is stored in.</summary>
    public DataSpace Classify(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_publicKeys.Contains(key))
        {
            return DataSpace.Public;
        }

        foreach (var prefix in _publicPrefixes)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return DataSpace.Public;
            }
        }

        return DataSpace.Private;
    }
}
