// References: docs/BRIEF.md section 4 (the server: controller, communication, storage; "every state
// change that a message or a reply depends on is durable before the message or reply leaves");
// toolkit (seed 001) section 3 (the Pserver) and Tables 1-3; docs/NODE.md "The node".
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Proactive.Crypto.Random;
using Proactive.Node.Api;
using Proactive.Node.Configuration;
using Proactive.Node.Storage;
using Proactive.Node.Transport;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Hosting;

/// <summary>
/// One server process: drives its <see cref="ServerController"/> (and the bootstrap machines) from one
/// serial loop fed by the peer transport, the timers and the period clock. It holds no protocol logic:
/// it persists every step's writes before anything of the step leaves, seals and opens the messages,
/// keeps time, and decides when a period starts.
/// </summary>
/// <remarks>
/// <para><b>Phases.</b> A server with a start key and no [S_cert(M), M] initializes (toolkit Table 3:
/// see <c>NodeHost.Initialization.cs</c>); a server holding a copy that verifies with the V_start in its
/// ROM is operational and runs one period after the other (<c>NodeHost.Periods.cs</c>).</para>
/// <para><b>Frames.</b> Sealed envelopes, opened with the controller's directory of period keys; an
/// envelope whose sender's keys are not known yet (its KeyTable entry is still on the way) waits in a
/// bounded parking area and is opened again when the directory learns keys. Open frames
/// (<see cref="OpenFrame"/>) carry only self-authenticating messages. The sender an envelope names
/// must be the peer the transport authenticated; a copy the replay guard already saw is counted (a
/// transport retry delivers it twice), not alerted.</para>
/// <para><b>Threads.</b> The transport and the timers only write to a channel; everything else runs on
/// the loop. <see cref="Snapshot"/> is the one thing other threads read.</para>
/// </remarks>
public sealed partial class NodeHost : IAsyncDisposable
{
    /// <summary>How many envelopes wait for their sender's keys at most.</summary>
    public const int MaxParkedFrames = 8192;

    /// <summary>How many bytes of envelopes wait for their sender's keys at most.</summary>
    public const long MaxParkedBytes = 64L * 1024 * 1024;

    /// <summary>How many outbound messages wait for a recipient's encryption key at most.</summary>
    public const int MaxParkedMessages = 4096;

    private readonly NodeHostOptions _options;
    private readonly ClusterConfig _config;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Channel<NodeWork> _work = Channel.CreateUnbounded<NodeWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly IRandomSource _random;
    private readonly Dictionary<(InstanceId Instance, int Timer), long> _timers = [];
    private readonly List<(int Peer, byte[] Frame, ulong Period)> _parkedFrames = [];
    private readonly List<(InstanceId Instance, OutboundMessage Message)> _parkedMessages = [];
    private readonly Dictionary<ulong, EnvelopeSealer> _sealers = [];
    private readonly NodeCounters _counters = new();
    private readonly NodePinning _pinning;
    private readonly ReplayGuard _replayGuard = new();
    private NodeStore? _store;
    private ServerController? _controller;
    private PeriodCertificates? _certificates;
    private PeerTransport? _transport;
    private EnvelopeOpener? _opener;
    private AlertLog? _alertLog;
    private AlertWebhook? _webhook;
    private NodeApi? _api;
    private long _timerGeneration;
    private long _scheduledPeriod;
    private long _parkedBytes;
    private int _directoryVersionSeen = -1;
    private volatile NodeSnapshot _snapshot;

    /// <param name="options">Where the server's files are, the cluster configuration, timeouts.</param>
    /// <param name="loggerFactory">Logs; none when null.</param>
    public NodeHost(NodeHostOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _config = options.Config;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<NodeHost>();
        _random = options.Random ?? SystemRandomSource.Instance;
        _pinning = new NodePinning([.. _config.Parameters.Servers], () => (ulong)Interlocked.Read(ref _scheduledPeriod));
        _snapshot = NodeSnapshot.Starting(options.ServerId, DateTimeOffset.UtcNow);
        _observability = CreateObservability();
    }

    /// <summary>The state other threads see (the API's status), replaced after each unit of work.</summary>
    public NodeSnapshot Snapshot => _snapshot;

    /// <summary>Raised on the loop for every alert this server raises (after it is logged).</summary>
    public event Action<Alert>? AlertRaised;

    /// <summary>The alert log's file name in the server's directory.</summary>
    public const string AlertLogFileName = "alerts.db";

    /// <summary>This server.</summary>
    public int Self => _options.ServerId;

    /// <summary>Where the application API listens (after start), when C gives this server an API port.</summary>
    public IPEndPoint? ApiEndpoint => _api?.BoundEndpoint;

    /// <summary>The status the API serves: the loop's snapshot, the peers' reachability, the ROM's protection (any thread).</summary>
    public NodeStatus Status()
    {
        var snapshot = _snapshot;
        var reachability = _transport?.Reachability() ?? [];
        var peers = reachability.Select(r => new PeerStatus(r.PeerId, r.Reachable, Latest(r.LastSuccess, r.LastReceived))).ToList();
        var (romProtected, romDescription) = _store is { } store ? NodeStatus.DescribeRom(store.RomProtection) : (false, "unknown");
        var state = snapshot.State switch
        {
            "operational" => NodeState.Operational,
            "recovering" => NodeState.Recovering,
            "stopping" => NodeState.Stopping,
            _ => NodeState.Initializing,
        };
        return WithStatusPageDetails(snapshot, new NodeStatus(
            Self, state, snapshot.Period, snapshot.PeriodStartedAt, snapshot.NextRefreshAt, snapshot.LastRefreshDurationMs,
            snapshot.NetworkKey, snapshot.KeyTableFingerprint, peers, snapshot.AlertCount, romProtected, romDescription,
            snapshot.StartedAt, NodeAssembly.Version)
        {
            Refused = snapshot.Refused,
        });
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);

    /// <summary>Where the peer listener is bound (after start).</summary>
    public IPEndPoint? PeerEndpoint => _transport?.BoundEndpoint;

    /// <summary>
    /// Opens the store, starts the transport and runs the loop until <paramref name="cancellationToken"/>
    /// fires. Throws only for what makes running impossible (no ROM, a store of another server, a port
    /// in use), with a message that says what to do.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _store = NodeStore.Open(_options.Directory, StoreOpenMode.CreateIfMissing, NodeKeySpace.Policy);
        if (_store.Rom.ServerId != Self)
        {
            throw new NodeStartException($"The ROM at {_options.Directory.RomPath} is server {_store.Rom.ServerId}'s, not server {Self}'s.");
        }

        if (!_config.Server(Self).StartPublicKey.Equals(_store.Rom.StartPublicKey))
        {
            throw new NodeStartException($"The cluster configuration lists another V_start for server {Self} than its ROM holds: this is not the configuration this server was provisioned for.");
        }

        _store.ScrubResidue();
        _alertLog = AlertLog.Open(Path.Combine(_options.Directory.Root, AlertLogFileName));
        if (_options.Webhook is { } webhook)
        {
            _webhook = new AlertWebhook(new AlertWebhookOptions { Url = webhook }, _loggerFactory);
            _alertLog.Recorded += stored => _webhook.Post(stored);
        }

        using var snapshot = _store.ReadAll();
        _controller = ServerController.Restore(Self, _config.Parameters, _config.Suite.Group, _config.NetworkId, _options.Timeouts ?? NodeTimeouts.ForPeriod(_config.Period), snapshot.Entries);
        _controller.TlsFingerprintOf = period => _certificates?.FingerprintOf(period);
        _controller.PeriodSchedule = LedgerSchedule;
        RefreshDirectory();
        _certificates = new PeriodCertificates(Self, _options.TlsGracePeriod);
        RestoreKeys(snapshot.Entries);
        _opener = new EnvelopeOpener(Self, p => _controller.PeriodKeysOf(p), _controller.KeyDirectory, _config.NetworkId, _config.Suite.Group, _replayGuard);

        var server = _config.Server(Self);
        var transportOptions = _options.Transport ?? new PeerTransportOptions();
        transportOptions.ListenEndpoint = new IPEndPoint(ResolveAddress(server.Host), server.PeerPort);
        if (_options.Transport is null)
        {
            // A peer that was down must be reached again within a protocol window or two once it is back.
            transportOptions.MaxBackoff = (_options.Timeouts ?? NodeTimeouts.ForPeriod(_config.Period)).Refresh.DealingWindow * 2;
        }

        _transport = new PeerTransport(transportOptions, _certificates, _pinning, OnFrameAsync, _loggerFactory);
        foreach (var peer in _config.Servers.Where(s => s.Id != Self))
        {
            _transport.AddPeer(peer.Id, new Uri($"https://{peer.Host}:{peer.PeerPort}/"));
        }

        PrepareStart(snapshot.Entries);
        await _transport.StartAsync(cancellationToken).ConfigureAwait(false);
        if (server.ApiPort is { } apiPort)
        {
            _api = new NodeApi(new IPEndPoint(ResolveAddress(_options.ApiHost ?? server.Host), apiPort), Status, _alertLog, _loggerFactory, this, this, ApplicationServices) { Observability = _observability };
            await _api.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        NodeLog.Listening(_logger, Self, _transport.BoundEndpoint, _phase);

        using var ticker = new PeriodicTimer(_options.TickInterval);
        var ticks = TickAsync(ticker, cancellationToken);
        try
        {
            await foreach (var work in _work.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Handle(work);
                }
                catch (NodeStoreException e)
                {
                    // The disk refused a write: nothing of the step left; stop rather than run on a store we cannot trust.
                    NodeLog.StoreFailed(_logger, e, Self);
                    throw;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A bug, not bad input (machines never throw on what peers send): keep serving, loudly.
                    _counters.Count("internal error");
                    Metrics.LoopError();
                    NodeLog.InternalError(_logger, e, Self, work.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            // API calls still queued would otherwise wait forever.
            _work.Writer.TryComplete();
            while (_work.Reader.TryRead(out var left))
            {
                (left as NodeWork.Call)?.Abandon();
            }
        }

        Publish("stopping");

        await ticks.ConfigureAwait(false);
    }

    private async Task TickAsync(PeriodicTimer ticker, CancellationToken cancellationToken)
    {
        try
        {
            while (await ticker.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                _work.Writer.TryWrite(NodeWork.Tick.Instance);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private ValueTask OnFrameAsync(int senderId, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        _work.Writer.TryWrite(new NodeWork.Frame(senderId, frame.ToArray()));
        return ValueTask.CompletedTask;
    }

    private ServerController Controller => _controller ?? throw new InvalidOperationException("The node is not running.");

    private NodeStore Store => _store ?? throw new InvalidOperationException("The node is not running.");

    private TimeSpan Now => _clock.Elapsed;

    private ProtocolContext Context => new(Self, _config.Parameters, Now, _random);

    private void Handle(NodeWork work)
    {
        switch (work)
        {
            case NodeWork.Frame frame:
                OnFrame(frame.Peer, frame.Bytes);
                break;
            case NodeWork.Own own:
                Route(own.Instance, own.Message);
                break;
            case NodeWork.TimerFired timer when _timers.TryGetValue((timer.Instance, timer.TimerId), out var generation) && generation == timer.Generation:
                _timers.Remove((timer.Instance, timer.TimerId));
                OnTimer(timer.Instance, timer.TimerId);
                break;
            case NodeWork.Tick:
                OnTick();
                break;
            case NodeWork.Call call:
                call.Run();
                break;
        }

        RetryParkedIfDirectoryChanged();
        if (work is NodeWork.Tick)
        {
            // The status is rebuilt on the clock (every tick), not for every frame.
            Publish(null);
        }
    }

    private void OnTimer(InstanceId instance, int timerId)
    {
        var machine = _bootstrapMachines.GetValueOrDefault(instance)
            ?? (_vcert?.Instance == instance ? _vcert : null)
            ?? (IProtocolMachine?)(_seeker?.Instance == instance ? _seeker : null);
        if (machine is not null)
        {
            RunBootstrap(machine, (c, o) => machine.Timeout(c, timerId, o));
            return;
        }

        if (instance.Protocol == ProtocolKind.Bootstrap)
        {
            return; // a timer of a bootstrap machine that has been replaced
        }

        Apply(Controller.Timeout(Context, instance, timerId));
    }

    // ---- Inbound ---------------------------------------------------------------------------------

    private void OnFrame(int peer, byte[] bytes)
    {
        if (OpenFrame.LooksLikeOpenFrame(bytes))
        {
            if (!OpenFrame.TryDecode(bytes, _config.Suite.Group, _config.NetworkId, Self, out var header, out var open, out var why))
            {
                Refuse(peer, "open frame refused", why);
                return;
            }

            if (header.Sender != peer)
            {
                Refuse(peer, "open frame of another sender", $"an open frame claiming server {header.Sender}");
                return;
            }

            if (header.Instance.Protocol == ProtocolKind.KeyTable && header.Period + EnvelopeOpener.AllowedPeriodLag < Controller.CurrentPeriod)
            {
                // The envelopes' window: a KeyTable entry or certificate of a past period is late, not a replay to blame.
                Refuse(peer, "open frame StalePeriod", $"an open frame of {header.Instance}, period {header.Period}");
                return;
            }

            Route(header.Instance, open);
            return;
        }

        var result = _opener!.Open(bytes, Controller.CurrentPeriod);
        if (result.IsAccepted)
        {
            if (result.Header!.Value.Sender != peer)
            {
                // Envelopes travel from their signer straight to their recipients; a copy relayed by
                // another peer is a replay whoever signed it.
                CountRefused("relayed envelope");
                NodeLog.Relayed(_logger, Self, result.Header.Value.Sender, peer);
                return;
            }

            Route(result.Instance, result.Message!);
            return;
        }

        switch (result.Rejection)
        {
            case EnvelopeRejection.UnknownSender when result.Header is { } header && header.Period + 1 >= Controller.CurrentPeriod
                && header.Sender == peer && _config.Parameters.Servers.Contains(peer):
                Park(peer, bytes, header.Period);
                break;
            case EnvelopeRejection.Replay:
                // A transport retry of a batch whose answer was lost delivers its frames again.
                CountRefused("duplicate envelope");
                break;
            default:
                Refuse(peer, $"envelope {result.Rejection}", result.Failure.IsFailure ? $"envelope {result.Rejection} ({result.Failure})" : $"envelope {result.Rejection}");
                break;
        }
    }

    /// <summary>Counts a refused frame under <paramref name="counter"/> (a fixed name) and logs <paramref name="reason"/>.</summary>
    private void Refuse(int peer, string counter, string reason)
    {
        CountRefused(counter);
        NodeLog.Refused(_logger, Self, peer, reason);
    }

    private void Park(int peer, byte[] bytes, ulong period)
    {
        // Bounded in count and bytes, and per peer to a fair share, so one peer cannot crowd out the rest.
        var fromPeer = _parkedFrames.Count(f => f.Peer == peer);
        if (_parkedFrames.Count >= MaxParkedFrames || _parkedBytes + bytes.Length > MaxParkedBytes
            || fromPeer >= MaxParkedFrames / _config.Parameters.ServerCount)
        {
            CountRefused("parking full");
            return;
        }

        _parkedBytes += bytes.Length;
        _parkedFrames.Add((peer, bytes, period));
    }

    private void Route(InstanceId instance, InboundMessage message)
    {
        Metrics.MessageAccepted(instance.Protocol);
        if (instance.Protocol == ProtocolKind.Bootstrap)
        {
            RouteBootstrap(instance, message);
            return;
        }

        Apply(Controller.Receive(Context, instance, message));
    }

    /// <summary>New keys in the directory: frames and messages that waited for them go now.</summary>
    private void RetryParkedIfDirectoryChanged()
    {
        var version = Controller.DirectoryVersion + _localDirectoryVersion;
        if (version == _directoryVersionSeen)
        {
            return;
        }

        _directoryVersionSeen = version;
        var floor = Controller.CurrentPeriod == 0 ? 0 : Controller.CurrentPeriod - 1;
        var frames = _parkedFrames.Where(f => f.Period >= floor).ToList();
        _parkedFrames.Clear();
        _parkedBytes = 0;
        foreach (var (peer, bytes, _) in frames)
        {
            OnFrame(peer, bytes);
        }

        var messages = _parkedMessages.Where(m => m.Instance.Period >= floor).ToList();
        _parkedMessages.Clear();
        foreach (var (instance, message) in messages)
        {
            Send(instance, message);
        }
    }

    // ---- Outbound --------------------------------------------------------------------------------

    /// <summary>Applies a controller step: every write durable first, then messages, timers and events in order.</summary>
    private void Apply(ControllerStep step)
    {
        Store.ApplyStep(step);
        foreach (var drop in step.Drops)
        {
            _counters.Count("dropped: " + drop.Reason);
            Metrics.MessageDropped(drop.Instance.Protocol, drop.Reason);
            NodeLog.Dropped(_logger, Self, drop.Instance, drop.Sender, drop.Reason);
        }

        foreach (var output in step.Outputs)
        {
            Emit(output.Instance, output.Outbox);
        }
    }

    /// <summary>Sends, schedules and reacts to one outbox whose writes are already durable.</summary>
    private void Emit(InstanceId instance, Outbox outbox)
    {
        foreach (var message in outbox.Messages)
        {
            Send(instance, message);
        }

        foreach (var timer in outbox.Timers)
        {
            Schedule(instance, timer);
        }

        foreach (var emitted in outbox.Events)
        {
            OnEvent(instance, emitted);
        }
    }

    private void Send(InstanceId instance, OutboundMessage message)
    {
        byte[] frame;
        if (!message.Confidential && OpenFrame.IsAllowed(instance, message.Round, message.Type))
        {
            frame = OpenFrame.Encode(_config.Suite.Id, _config.NetworkId, Self, instance, message);
        }
        else if (SealerFor(instance.Period) is not { } sealer)
        {
            _counters.Count("no own keys for the period");
            return;
        }
        else if (!sealer.TrySeal(instance, message, out var sealedFrame))
        {
            if (_parkedMessages.Count < MaxParkedMessages)
            {
                _parkedMessages.Add((instance, message));
            }

            return;
        }
        else
        {
            frame = sealedFrame;
        }

        if (message.Recipient is not { } recipient)
        {
            _transport!.SendToAll(frame);
            DeliverOwn(instance, message, frame);
        }
        else if (recipient == Self)
        {
            DeliverOwn(instance, message, frame);
        }
        else if (_config.Parameters.Servers.Contains(recipient))
        {
            _transport!.Send(recipient, frame);
        }
    }

    /// <summary>
    /// This server's own message to itself, queued as it was sealed: opening the envelope again would only
    /// check the signature this server just made (a verification per own broadcast, a fifth of the
    /// verifications of a ledger instance on five servers). The payload is a copy, as an opened envelope's
    /// is: a machine may wipe what it sent (sub-shares) while keeping what it received.
    /// </summary>
    private void DeliverOwn(InstanceId instance, OutboundMessage message, byte[] frame) =>
        _work.Writer.TryWrite(new NodeWork.Own(instance, new InboundMessage(Self, message.Attempt, message.Round, message.Type, message.Payload.ToArray(), message.Confidential, frame)));

    private EnvelopeSealer? SealerFor(ulong period)
    {
        if (_sealers.TryGetValue(period, out var sealer))
        {
            return sealer;
        }

        if (Controller.PeriodKeysOf(period) is not { } keys)
        {
            return null;
        }

        sealer = new EnvelopeSealer(Self, keys, Controller.KeyDirectory, _config.NetworkId, _config.Suite.Group, _random);
        _sealers[period] = sealer;
        foreach (var old in _sealers.Keys.Where(p => p + 1 < period).ToList())
        {
            _sealers.Remove(old);
        }

        return sealer;
    }

    private void Schedule(InstanceId instance, TimerRequest timer)
    {
        var generation = ++_timerGeneration;
        _timers[(instance, timer.TimerId)] = generation;
        var delay = timer.At - Now;
        var work = new NodeWork.TimerFired(instance, timer.TimerId, generation);
        if (delay <= TimeSpan.Zero)
        {
            _work.Writer.TryWrite(work);
            return;
        }

        _ = Task.Delay(delay).ContinueWith(_ => _work.Writer.TryWrite(work), TaskScheduler.Default);
    }

    private void RaiseAlert(Alert alert)
    {
        _alertCount++;
        Metrics.AlertRaised(alert.Type);
        NodeLog.AlertRaised(_logger, Self, alert.Type, alert.Culprit, alert.Period, alert.Instance, alert.Detail);
        _alertLog?.Record(alert, Self, DateTimeOffset.UtcNow);
        AlertRaised?.Invoke(alert);
    }

    private static IPAddress ResolveAddress(string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        return host == "localhost" ? IPAddress.Loopback : Dns.GetHostAddresses(host).First();
    }

    /// <summary>Stops the transport and erases the keys held in memory.</summary>
    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        if (_api is not null)
        {
            await _api.DisposeAsync().ConfigureAwait(false);
        }

        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }

        if (_webhook is not null)
        {
            await _webhook.DisposeAsync().ConfigureAwait(false);
        }

        _alertLog?.Dispose();
        _observability.Dispose();

        _certificates?.Dispose();
        foreach (var machine in _bootstrapMachines.Values)
        {
            (machine as IDisposable)?.Dispose();
        }

        _startKey?.Dispose();
        _controller?.Dispose();
        _store?.Dispose();
    }
}

/// <summary>Thrown when the node cannot start; the message says why and what to do.</summary>
public sealed class NodeStartException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>What the loop handles, one at a time.</summary>
internal abstract record NodeWork
{
    public sealed record Frame(int Peer, byte[] Bytes) : NodeWork;

    /// <summary>A message this server sent to itself (a broadcast's own copy), not sealed and opened again.</summary>
    public sealed record Own(InstanceId Instance, InboundMessage Message) : NodeWork;

    public sealed record TimerFired(InstanceId Instance, int TimerId, long Generation) : NodeWork;

    public sealed record Tick : NodeWork
    {
        public static Tick Instance { get; } = new();
    }

    /// <summary>Work an API request asked for (see <c>NodeHost.OnLoopAsync</c>): runs on the loop, completes the request's task.</summary>
    public sealed record Call(Action Run, Action Abandon) : NodeWork;
}
