// References: toolkit paper (seed 001) Table 1 (the KeyTable [K_1..K_n] of period p).

using System.Diagnostics.CodeAnalysis;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// Which public keys each server has in each period: what the envelope layer verifies signatures
/// with and encrypts to. The KeyTable protocol fills it once a period's table is threshold-signed;
/// the node seeds it from the configuration C for period 0.
/// </summary>
/// <remarks>
/// An entry never changes once added: a second, different K_i for the same server and period is
/// refused (<see cref="TryAdd"/> returns false), because accepting it would let whoever added it
/// take over the server's identity for that period. Not thread-safe: one driver owns it.
/// </remarks>
public sealed class PeriodKeyDirectory
{
    private readonly Dictionary<(int Server, ulong Period), PeriodPublicKeys> _entries = [];

    /// <summary>Entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Adds K_i for its server and period. True when added or already present with the same keys;
    /// false when the server already has different keys in that period (a conflict the caller should
    /// raise as an alert).
    /// </summary>
    public bool TryAdd(PeriodPublicKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var slot = (keys.ServerId, keys.Period);
        if (_entries.TryGetValue(slot, out var existing))
        {
            return existing.Equals(keys);
        }

        _entries.Add(slot, keys);
        return true;
    }

    /// <summary>
    /// Sets K_i for its server and period, replacing what was there: for a decision (the decided
    /// KeyTable) that overrides an entry learned earlier. True when something changed.
    /// </summary>
    public bool Set(PeriodPublicKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var slot = (keys.ServerId, keys.Period);
        if (_entries.TryGetValue(slot, out var existing) && existing.Equals(keys))
        {
            return false;
        }

        _entries[slot] = keys;
        return true;
    }

    /// <summary>The keys of <paramref name="serverId"/> in <paramref name="period"/>, if known.</summary>
    public bool TryGet(int serverId, ulong period, [NotNullWhen(true)] out PeriodPublicKeys? keys) =>
        _entries.TryGetValue((serverId, period), out keys);

    /// <summary>Forgets every period before <paramref name="period"/>, once nothing of them can be accepted any more.</summary>
    public void RemovePeriodsBefore(ulong period)
    {
        foreach (var slot in _entries.Keys.Where(s => s.Period < period).ToList())
        {
            _entries.Remove(slot);
        }
    }
}
