// References: docs/BRIEF.md section 4 ("TLS certificates per server per period, pinned by fingerprint
// through the KeyTable (through C during initialization)"); docs/NODE.md "The node", "Pinning".
using Proactive.Node.Transport;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Hosting;

/// <summary>
/// The node's pins: the TLS fingerprints the period-0 exchange and the decided KeyTables announced,
/// for the last <see cref="PeriodsKept"/> periods; a peer for which this server holds no pin at all
/// (during initialization, or after it lost its own store) is accepted on the name its certificate
/// claims, because there is nothing to pin against yet. Message signatures carry the security
/// either way (BRIEF section 4); the pins keep everyone else off the peer port.
/// </summary>
public sealed class NodePinning(IReadOnlyCollection<int> servers) : IPeerPinning
{
    /// <summary>How many periods of pins are kept (a peer a period behind still connects).</summary>
    public const int PeriodsKept = 3;

    private readonly InMemoryPeerPinning _pins = new();
    private readonly HashSet<int> _servers = [.. servers];
    private readonly Lock _gate = new();
    private readonly HashSet<int> _pinned = [];

    /// <inheritdoc />
    public bool IsPinned(int peerId, ReadOnlySpan<byte> certificateFingerprint)
    {
        if (_pins.IsPinned(peerId, certificateFingerprint))
        {
            return true;
        }

        lock (_gate)
        {
            return _servers.Contains(peerId) && !_pinned.Contains(peerId);
        }
    }

    /// <summary>Pins the fingerprints of <paramref name="entries"/> for <paramref name="period"/>; drops periods older than <see cref="PeriodsKept"/>.</summary>
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
            foreach (var entry in list)
            {
                _pinned.Add(entry.ServerId);
            }
        }
    }
}
