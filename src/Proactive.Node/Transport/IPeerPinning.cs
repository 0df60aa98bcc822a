// References: docs/BRIEF.md section 4 ("Peer transport": certificates pinned by fingerprint through
// the KeyTable, through C during initialization); docs/NODE.md "Peer transport", "Pinning".
namespace Proactive.Node.Transport;

/// <summary>
/// Which TLS certificates the transport accepts from each peer, on both sides of a connection: the
/// listener checks a client's certificate against the id its common name claims, a link checks the
/// server's certificate against the peer it dialled. Nothing else (no CA, no dates) is trusted.
/// </summary>
/// <remarks>
/// The node feeds it: from the cluster configuration C during initialization, then from each decided
/// KeyTable. It is consulted at every handshake and again at every request, so removing a pin
/// also shuts out connections already open with that certificate. Implementations must be
/// thread-safe and fast (called on every request).
/// </remarks>
public interface IPeerPinning
{
    /// <summary>True iff <paramref name="certificateFingerprint"/> (SHA-256 of the DER certificate) is pinned for <paramref name="peerId"/>.</summary>
    bool IsPinned(int peerId, ReadOnlySpan<byte> certificateFingerprint);
}
