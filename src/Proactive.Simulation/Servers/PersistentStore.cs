namespace Proactive.Simulation.Servers;

/// <summary>
/// A server's disk: what its machines wrote with <c>Outbox.Persist</c>, surviving crashes. One key
/// space per server, as in the node, so protocols put their instance in their keys. Values are
/// copied in and out, so nobody can change the disk by holding on to an array.
/// </summary>
public sealed class PersistentStore
{
    private readonly SortedDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);

    /// <summary>Keys in ordinal order, so that iterating is deterministic.</summary>
    public IReadOnlyCollection<string> Keys => _entries.Keys;

    public int Count => _entries.Count;

    /// <summary>Total stored bytes (values only).</summary>
    public long TotalBytes => _entries.Values.Sum(v => (long)v.Length);

    public bool TryGet(string key, out ReadOnlyMemory<byte> value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_entries.TryGetValue(key, out var stored))
        {
            value = stored;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>A copy of everything, for a restart factory or a checker that keeps snapshots.</summary>
    public IReadOnlyDictionary<string, byte[]> Snapshot() =>
        _entries.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>Writes durably: what the simulator does for <c>Outbox.Persist</c>, and what a Byzantine strategy or scenario uses to corrupt a disk.</summary>
    public void Put(string key, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(key);
        _entries[key] = value.ToArray();
    }

    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _entries.Remove(key);
    }
}
