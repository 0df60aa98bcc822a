// References: toolkit (seed 001) section 3.2 "The Pserver Data"; docs/BRIEF.md section 4 ("Data").
namespace Proactive.Node.Storage;

/// <summary>
/// The two writable kinds of server data of the toolkit (section 3.2). The third kind, ROM, is not a
/// key-value space: it is a separate read-only file (<see cref="RomRecord"/>).
/// </summary>
public enum DataSpace
{
    /// <summary>
    /// Replicated and recoverable from peers, verifiable against what the network signs: public state
    /// and commitments, certificates, KeyTables, the invariant information [S_cert(M), M], alerts.
    /// Exposure does not hurt the server; loss or corruption is repaired from the network.
    /// </summary>
    Public,

    /// <summary>
    /// This server's own: shares, period private keys, protocol private state and progress. Never
    /// recovered from peers (it is refreshed instead) and erased for real when retired.
    /// </summary>
    Private,
}
