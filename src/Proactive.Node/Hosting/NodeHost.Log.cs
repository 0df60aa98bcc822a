// References: docs/NODE.md "Logs".
using Proactive.Protocols.Machines;

namespace Proactive.Node.Hosting;

/// <summary>The node's log lines (source-generated: nothing is formatted when the level is off).</summary>
internal static partial class NodeLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "server {Server}: no valid [S_cert(M), M] and no start key: recovering (toolkit Table 2)")]
    public static partial void Recovering(ILogger logger, int server);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: period-0 keys of all {Count} servers exchanged; running the DKGs")]
    public static partial void InitialKeysExchanged(ILogger logger, int server, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: DKGs done (network key {Key}); exchanging the statements M_i")]
    public static partial void DkgsDone(ILogger logger, int server, NetworkKeyText key);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: M assembled; threshold-signing it")]
    public static partial void SigningM(ILogger logger, int server);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: initialized in {Seconds:F2} s; [S_cert(M), M] stored, start key erased now: {Erased}; period 1 starts at {Start:O}")]
    public static partial void Initialized(ILogger logger, int server, double seconds, bool erased, DateTimeOffset start);

    [LoggerMessage(Level = LogLevel.Warning, Message = "server {Server}: the stored keys of period {Period} do not decode; they are not used")]
    public static partial void BadStoredKeys(ILogger logger, int server, ulong period);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: period {Period} starts{Self} (recovering: {Recovering})")]
    public static partial void PeriodStarts(ILogger logger, int server, ulong period, string self, IReadOnlyList<int> recovering);

    [LoggerMessage(Level = LogLevel.Warning, Message = "server {Server}: {Reason}: restoring the certified public state from a peer and recovering its shares in the next period")]
    public static partial void Rejoining(ILogger logger, int server, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: adopted a verified [S_cert(M), M] from a peer; restoring the public state")]
    public static partial void InvariantAdopted(ILogger logger, int server);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: public state of period {Period} restored from server {From} and verified against its certificate; recovering its shares in period {Join}")]
    public static partial void PublicStateRestored(ILogger logger, int server, ulong period, int from, ulong join);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: refresh of period {Period} committed in {Milliseconds:F0} ms")]
    public static partial void PeriodCommitted(ILogger logger, int server, ulong period, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server} listening for peers on {Endpoint} ({Phase})")]
    public static partial void Listening(ILogger logger, int server, System.Net.IPEndPoint endpoint, NodePhase phase);

    [LoggerMessage(Level = LogLevel.Critical, Message = "server {Server}: the store failed; stopping")]
    public static partial void StoreFailed(ILogger logger, Exception exception, int server);

    [LoggerMessage(Level = LogLevel.Error, Message = "server {Server}: internal error while handling {Work}; the unit of work is dropped")]
    public static partial void InternalError(ILogger logger, Exception exception, int server, string work);

    [LoggerMessage(Level = LogLevel.Debug, Message = "server {Server}: envelope of server {Signer} delivered by server {Peer}, dropped")]
    public static partial void Relayed(ILogger logger, int server, int signer, int peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server}: refused a frame from server {Peer}: {Reason}")]
    public static partial void Refused(ILogger logger, int server, int peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "server {Server}: dropped a message of server {Sender} for {Instance}: {Reason}")]
    public static partial void Dropped(ILogger logger, int server, InstanceId instance, int sender, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "server {Server}: {Instance} emitted {Event}")]
    public static partial void Event(ILogger logger, int server, InstanceId instance, string @event);

    [LoggerMessage(Level = LogLevel.Warning, Message = "server {Server} ALERT {Type} culprit {Culprit} period {Period} {Instance}: {Detail}")]
    public static partial void AlertRaised(ILogger logger, int server, AlertType type, int culprit, ulong period, InstanceId? instance, string detail);
}

/// <summary>A network key for a log line, hex-encoded only when the line is written.</summary>
internal readonly record struct NetworkKeyText(byte[] Encoded)
{
    public override string ToString() => Convert.ToHexStringLower(Encoded);
}
