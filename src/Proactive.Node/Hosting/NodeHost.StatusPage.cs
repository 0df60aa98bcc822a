// References: docs/BRIEF.md section 4 ("Status GUI": last refresh and its duration, keys and
// fingerprints, registered applications, storage counts; no secrets); issue 6 item 1.
using System.Security.Cryptography;
using Proactive.Node.Api;
using Proactive.Node.StatusPage;
using Proactive.Protocols.Controller;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Hosting;

/// <summary>What the node keeps for the status page (<c>/ui</c>) beyond its snapshot: history and counts, all public.</summary>
public sealed partial class NodeHost
{
    private readonly StatusHistory _statusHistory = new();
    private volatile ApplicationCounts? _applicationCounts;

    /// <summary>The status with the page's history and counts (any thread).</summary>
    private NodeStatus WithStatusPageDetails(NodeSnapshot snapshot, NodeStatus status) => status with
    {
        SharesPeriod = snapshot.CommittedPeriod,
        SharesRefreshedAt = _statusHistory.LastCommittedAt,
        Refreshes = _statusHistory.Refreshes,
        KeyTables = _statusHistory.KeyTables,
        Applications = _applicationCounts,
    };

    /// <summary>On the loop: the refresh of <paramref name="period"/> committed here, <paramref name="durationMs"/> after the period started.</summary>
    private void RecordRefresh(ulong period, double durationMs) =>
        _statusHistory.RefreshCommitted(new RefreshRecord(period, _periodStartedAt, DateTimeOffset.UtcNow, durationMs));

    /// <summary>On the loop: a KeyTable was decided; its fingerprint and this server's entry's.</summary>
    private void RecordKeyTable(ulong period, string fingerprint, KeyTableDocument table)
    {
        var own = table.TryGet(Self, out var entry) ? Convert.ToHexStringLower(SHA256.HashData(entry.Entry.Encode())) : null;
        _statusHistory.KeyTableDecided(new KeyTableRecord(period, DateTimeOffset.UtcNow, fingerprint, own));
    }

    /// <summary>On the loop (with every snapshot): the agreed application state by count, while this server follows the ledger.</summary>
    private void PublishApplicationCounts(ServerController? controller)
    {
        if (controller is null || _phase != NodePhase.Operational || !controller.IsLedgerCurrent)
        {
            _applicationCounts = null;
            return;
        }

        var state = controller.Ledger.State;
        _applicationCounts = new ApplicationCounts(state.ApplicationCount, _instances.Count, state.DataCount, state.SecretCount, state.KeyCount);
    }
}
