namespace Proactive.Node.Transport;

/// <summary>What this server knows about reaching one peer, for the status endpoint and metrics.</summary>
/// <param name="PeerId">The peer.</param>
/// <param name="Endpoint">Where its listener is.</param>
/// <param name="Reachable">The last request reached it (answered by its transport) and none failed since; false before any contact.</param>
/// <param name="LastSuccess">When a request last reached it.</param>
/// <param name="LastReceived">When the peer last delivered a batch to this server's listener.</param>
/// <param name="LastFailure">When a request last failed (connect, TLS, timeout, 403 or 5xx).</param>
/// <param name="LastError">Why the last failure happened (one line, no secrets).</param>
/// <param name="ConsecutiveFailures">Failures since the last success; drives the backoff.</param>
/// <param name="QueuedFrames">Frames not yet accepted by the peer: waiting, or in the request in flight.</param>
/// <param name="QueuedBytes">Their size.</param>
/// <param name="FramesSent">Frames the peer accepted (204).</param>
/// <param name="BatchesSent">Requests the peer accepted.</param>
/// <param name="FramesDropped">Frames dropped because the queue was full (oldest first) or the link stopped with them queued.</param>
/// <param name="FramesRejected">Frames the peer refused for good (400 or 413): a bug or a limit mismatch, not retried.</param>
public sealed record PeerReachability(
    int PeerId,
    Uri Endpoint,
    bool Reachable,
    DateTimeOffset? LastSuccess,
    DateTimeOffset? LastReceived,
    DateTimeOffset? LastFailure,
    string? LastError,
    int ConsecutiveFailures,
    int QueuedFrames,
    long QueuedBytes,
    long FramesSent,
    long BatchesSent,
    long FramesDropped,
    long FramesRejected);
