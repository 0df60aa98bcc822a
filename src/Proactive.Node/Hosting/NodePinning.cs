// References: docs/BRIEF.md section 4 ("TLS certificates per server per period, pinned by fingerprint
// through the KeyTable (through C during initialization)"); docs/NODE.md "The node", "Pinning".
using Proactive.Node.Transport;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Hosting;

/// <summary>
/// The node's pins: the TLS fingerprints the period-0 exchange and the decided KeyTables announced,
/// for the last <see cref="PeriodsKept"/> periods. A certificate that is not pinned is still accepted on
/// the name it claims for a peer this server holds no pin for (during initialization, or after it lost
/// its own store) and for a peer that has been silent for a while (no authenticated envelope): such a
/// peer may have lost its store and be recovering with a new certificate, which peers can only pin
/// once the KeyTable that announces it is decided, so it must be able to reach them first. What it
/// can send before that are open frames, which authenticate themselves; its envelopes need keys the
/// KeyTable vouches for. Message signatures carry the security either way (BRIEF section 4); the
/// pins keep everyone else off the peer port while the peer is alive.
/// </summary>
public sealed class NodePinning(IReadOnlyCollection<int> servers, Func<int, bool> isSilent) : IPeerPinning
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
            return _servers.Contains(peerId) && (!_pinned.Contains(peerId) || isSilent(peerId));
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
