// References: docs/BRIEF.md section 4 ("Status GUI": last refresh and its duration, keys and
// fingerprints); issue 6 item 1 (a chart of refresh durations over recent periods).
using Proactive.Node.Api;

namespace Proactive.Node.StatusPage;

/// <summary>
/// The recent refreshes and KeyTables of one server, for the status page: written by the node's loop,
/// read by the API's threads (one lock, copies out). Kept in memory only and bounded: it is a view for
/// operators, not a record (the alert log is the record of what went wrong), so a restarted server
/// starts it empty.
/// </summary>
public sealed class StatusHistory
{
    /// <summary>Refreshes kept: enough for the chart's recent periods.</summary>
    public const int MaxRefreshes = 32;

    /// <summary>KeyTables kept.</summary>
    public const int MaxKeyTables = 8;

    private readonly Lock _gate = new();
    private readonly Queue<RefreshRecord> _refreshes = new();
    private readonly Queue<KeyTableRecord> _keyTables = new();

    /// <summary>The latest refreshes, oldest first.</summary>
    public IReadOnlyList<RefreshRecord> Refreshes
    {
        get
        {
            lock (_gate)
            {
                return [.. _refreshes];
            }
        }
    }

    /// <summary>The latest KeyTables, oldest first.</summary>
    public IReadOnlyList<KeyTableRecord> KeyTables
    {
        get
        {
            lock (_gate)
            {
                return [.. _keyTables];
            }
        }
    }

    /// <summary>When the latest refresh committed; null before one did in this process.</summary>
    public DateTimeOffset? LastCommittedAt
    {
        get
        {
            lock (_gate)
            {
                return _refreshes.Count == 0 ? null : _refreshes.Last().CommittedAt;
            }
        }
    }

    /// <summary>Records a committed refresh (a period committed twice, e.g. after a catch-up, keeps its latest record).</summary>
    public void RefreshCommitted(RefreshRecord refresh)
    {
        ArgumentNullException.ThrowIfNull(refresh);
        lock (_gate)
        {
            Replace(_refreshes, refresh, r => r.Period == refresh.Period, MaxRefreshes);
        }
    }

    /// <summary>Records a decided KeyTable (one per period: a period decided again keeps its latest record).</summary>
    public void KeyTableDecided(KeyTableRecord table)
    {
        ArgumentNullException.ThrowIfNull(table);
        lock (_gate)
        {
            Replace(_keyTables, table, t => t.Period == table.Period, MaxKeyTables);
        }
    }

    private static void Replace<T>(Queue<T> queue, T item, Func<T, bool> samePeriod, int capacity)
    {
        if (queue.Any(samePeriod))
        {
            var kept = queue.Where(x => !samePeriod(x)).ToList();
            queue.Clear();
            foreach (var x in kept)
            {
                queue.Enqueue(x);
            }
        }

        queue.Enqueue(item);
        while (queue.Count > capacity)
        {
            queue.Dequeue();
        }
    }
}
