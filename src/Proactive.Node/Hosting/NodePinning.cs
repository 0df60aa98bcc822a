// References: docs/BRIEF.md section 4 ("TLS certificates per server per period, pinned by fingerprint
// through the KeyTable (through C during initialization)"); docs/NODE.md "The node", "Pinning".
using Proactive.Node.Transport;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Hosting;

/// <summary>
/// The node's pins: the TLS fingerprints the period-0 exchange and the decided KeyTables announced,
/// for the last <see cref="PeriodsKept"/> periods. A certificate that is not pinned is still accepted on
/// the name it claims in three cases, each one where there is nothing current to pin against:
/// this server holds no pin for the peer at all (initialization); the peer is missing from the latest
/// table this server pinned (it lost its store, or was away, and comes back with a new certificate,
/// which peers can pin only once the KeyTable announcing it is decided, so it must reach them first);
/// this server's own pins are stale (it was away for more than a period and must catch up). What such
/// a connection can carry before its sender's keys are known is open frames, which authenticate
/// themselves; envelopes need keys the KeyTable vouches for. Message signatures carry the security
/// either way (BRIEF section 4); the pins keep everyone else off the peer port while the peer is in
/// the KeyTable.
/// </summary>
public sealed class NodePinning(IReadOnlyCollection<int> servers, Func<ulong> currentPeriod) : IPeerPinning
{
    /// <summary>How many periods of pins are kept (a peer a period behind still connects).</summary>
    public const int PeriodsKept = 3;

    private readonly InMemoryPeerPinning _pins = new();
    private readonly HashSet<int> _servers = [.. servers];
    private readonly Lock _gate = new();
    private readonly Dictionary<int, ulong> _lastPinnedIn = [];
    private ulong? _latestPeriod;

    /// <inheritdoc />
    public bool IsPinned(int peerId, ReadOnlySpan<byte> certificateFingerprint)
    {
        if (_pins.IsPinned(peerId, certificateFingerprint))
        {
            return true;
        }

        lock (_gate)
        {
            if (!_servers.Contains(peerId))
            {
                return false;
            }

            return _latestPeriod is not { } latest
                || !_lastPinnedIn.TryGetValue(peerId, out var pinnedIn)
                || pinnedIn < latest
                || latest + 1 < currentPeriod();
        }
    }

    /// <summary>Pins the fingerprints of <paramref name="entries"/> (the peers of a decided table) for <paramref name="period"/>; drops periods older than <see cref="PeriodsKept"/>.</summary>
    public void Pin(ulong period, IEnumerable<KeyTableEntry> entries)
    {
        var list = entries.Where(e => e.TlsCertificateFingerprint.ToArray().Any(b => b != 0)).ToList();
        _pins.Update(period, list);
        if (period >= PeriodsKept)
        {
            _pins.RemoveBefore(period - PeriodsKept + 1);
        }

        lock (_gate)
        {
            if (_latestPeriod is null || period > _latestPeriod)
            {
                _latestPeriod = period;
            }

            foreach (var entry in list)
            {
                _lastPinnedIn[entry.ServerId] = Math.Max(period, _lastPinnedIn.GetValueOrDefault(entry.ServerId));
            }
        }
    }
}
