// References: issue 4 ("peer messages with bad signatures, wrong period, replays, oversize bodies:
// rejected with a logged reason and a counter").
namespace Proactive.Node.Hosting;

/// <summary>Counts of refused and dropped frames by reason: what the status and the tests look at.</summary>
public sealed class NodeCounters
{
    /// <summary>At most this many distinct reasons are kept (a reason text comes partly from untrusted input).</summary>
    public const int MaxReasons = 256;

    private readonly Dictionary<string, long> _counts = [];
    private readonly Lock _gate = new();

    /// <summary>Counts one event of <paramref name="reason"/>.</summary>
    public void Count(string reason)
    {
        lock (_gate)
        {
            if (_counts.Count >= MaxReasons && !_counts.ContainsKey(reason))
            {
                reason = "other";
            }

            _counts[reason] = _counts.GetValueOrDefault(reason) + 1;
        }
    }

    /// <summary>A copy of the counts.</summary>
    public IReadOnlyDictionary<string, long> ToDictionary()
    {
        lock (_gate)
        {
            return new Dictionary<string, long>(_counts);
        }
    }
}
