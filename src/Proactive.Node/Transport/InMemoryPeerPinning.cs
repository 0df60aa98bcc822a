// References: docs/BRIEF.md section 3 ("Refresh for period p": the KeyTable lists each K_i with its TLS
// fingerprint) and section 4 ("Peer transport"); docs/NODE.md "Peer transport", "Pinning".
using System.Buffers.Binary;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Transport;

/// <summary>
/// Pins by period: each period has a set of fingerprints per peer id, and a certificate is accepted for
/// a peer when any held period pins it for that peer. Holding two periods is what lets a period switch
/// happen without a gap: the node adds period p's pins when the KeyTable for p is decided (before anyone
/// switches), and removes period p-1's a grace interval after the switch.
/// </summary>
/// <remarks>Reads are lock-free (one immutable snapshot per update); updates are serialized.</remarks>
public sealed class InMemoryPeerPinning : IPeerPinning
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<ulong, Dictionary<int, HashSet<Fingerprint>>> _byPeriod = [];
    private volatile Dictionary<int, HashSet<Fingerprint>> _union = [];

    /// <summary>The periods whose pins are held, ascending.</summary>
    public IReadOnlyList<ulong> Periods
    {
        get
        {
            lock (_gate)
            {
                return [.. _byPeriod.Keys];
            }
        }
    }

    /// <inheritdoc/>
    public bool IsPinned(int peerId, ReadOnlySpan<byte> certificateFingerprint) =>
        certificateFingerprint.Length == PeerCertificate.FingerprintLength &&
        _union.TryGetValue(peerId, out var pins) &&
        pins.Contains(Fingerprint.From(certificateFingerprint));

    /// <summary>Sets (replaces) the pins of <paramref name="period"/>: for each peer id, the fingerprints accepted for it.</summary>
    /// <exception cref="ArgumentException">A fingerprint is not 32 bytes or a peer id is outside 1..255.</exception>
    public void Update(ulong period, IReadOnlyDictionary<int, IReadOnlyCollection<byte[]>> pins)
    {
        ArgumentNullException.ThrowIfNull(pins);
        var table = new Dictionary<int, HashSet<Fingerprint>>();
        foreach (var (peerId, fingerprints) in pins)
        {
            if (peerId is < 1 or > 255)
            {
                throw new ArgumentException($"Peer id {peerId} is outside 1..255.", nameof(pins));
            }

            var set = new HashSet<Fingerprint>();
            foreach (var fingerprint in fingerprints)
            {
                if (fingerprint is null || fingerprint.Length != PeerCertificate.FingerprintLength)
                {
                    throw new ArgumentException($"A fingerprint is {PeerCertificate.FingerprintLength} bytes (peer {peerId}).", nameof(pins));
                }

                set.Add(Fingerprint.From(fingerprint));
            }

            table[peerId] = set;
        }

        lock (_gate)
        {
            _byPeriod[period] = table;
            Rebuild();
        }
    }

    /// <summary>Sets the pins of <paramref name="period"/> from the entries of a decided KeyTable (one fingerprint per server).</summary>
    public void Update(ulong period, IEnumerable<KeyTableEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Update(period, entries.ToDictionary(e => e.ServerId, e => (IReadOnlyCollection<byte[]>)[e.TlsCertificateFingerprint.ToArray()]));
    }

    /// <summary>Drops the pins of every period before <paramref name="period"/>.</summary>
    public void RemoveBefore(ulong period)
    {
        lock (_gate)
        {
            foreach (var old in _byPeriod.Keys.Where(p => p < period).ToList())
            {
                _byPeriod.Remove(old);
            }

            Rebuild();
        }
    }

    /// <summary>Drops the pins of one period; false when it held none.</summary>
    public bool Remove(ulong period)
    {
        lock (_gate)
        {
            var removed = _byPeriod.Remove(period);
            Rebuild();
            return removed;
        }
    }

    private void Rebuild()
    {
        var union = new Dictionary<int, HashSet<Fingerprint>>();
        foreach (var table in _byPeriod.Values)
        {
            foreach (var (peerId, set) in table)
            {
                if (!union.TryGetValue(peerId, out var all))
                {
                    all = [];
                    union.Add(peerId, all);
                }

                all.UnionWith(set);
            }
        }

        _union = union;
    }

    private readonly record struct Fingerprint(ulong A, ulong B, ulong C, ulong D)
    {
        public static Fingerprint From(ReadOnlySpan<byte> bytes) => new(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }
}
