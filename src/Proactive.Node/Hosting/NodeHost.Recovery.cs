// References: toolkit (seed 001) Table 2 (Vcert-recover at boot and every period start) and Table 1
// (a recovering server sends K_i in the clear; lost shares are recovered in the refresh); patent (seed
// 000) figure 4; docs/BRIEF.md section 3 "Recover"; docs/NODE.md "Recovery".
using Proactive.Crypto.Frost;
using Proactive.Protocols.Bootstrap;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Node.Hosting;

public sealed partial class NodeHost
{
    /// <summary>The instance sequence of a recovery notice: "I will recover my shares in period p" (open frame, empty payload).</summary>
    public const ulong RecoveryNoticeSequence = 4;

    private readonly Dictionary<ulong, HashSet<int>> _recoveryNotices = [];
    private VcertRecoverMachine? _vcert;
    private StateSyncMachine? _seeker;
    private StateSyncMachine? _provider;
    private RefreshPublicState? _restoredState;
    private ulong? _joinFrom;
    private long _lastNoticeTicks;
    private bool _sharesStale;
    private bool _damaged = true;

    /// <summary>A server that lost its store: ask for [S_cert(M), M] (Table 2) with a transport certificate of its own until it has keys.</summary>
    private void StartRecovering()
    {
        if (_certificates!.CurrentPeriod is null)
        {
            // Nothing pins this certificate yet; peers let it in while this server is silent to them.
            _certificates.Install(Transport.PeerCertificate.Create(Self, 0, DateTimeOffset.UtcNow));
            _certificates.SwitchTo(0);
        }

        RaiseAlert(new Alert(
            AlertType.CorruptedShares, 0, 0, null,
            "this server holds neither a valid [S_cert(M), M] nor its start key: its store was lost or corrupted; recovering M, the public state and its shares from its peers (toolkit Table 2)",
            []));
        _vcert = new VcertRecoverMachine(VcertRecoverMachine.InstanceOf(0), _config.Parameters, Self, Store.Rom.StartPublicKey, _config.Suite, null, _config.Period * 6);
        RunBootstrap(_vcert, _vcert.Start);
    }

    /// <summary>Every period an operational server pushes its copy of [S_cert(M), M] (Table 2) and answers requests.</summary>
    private void StartVcertPush(ulong period)
    {
        if (!Store.TryGet(Storage.DataSpace.Public, VcertRecoverMachine.StorageKey, out var stored))
        {
            return;
        }

        _vcert = new VcertRecoverMachine(VcertRecoverMachine.InstanceOf(period), _config.Parameters, Self, Store.Rom.StartPublicKey, _config.Suite, stored, _config.Period);
        RunBootstrap(_vcert, _vcert.Start);
    }

    /// <summary>Bootstrap messages other than initialization's: Vcert-recover, public-state sync, recovery notices.</summary>
    private bool RouteRecovery(InstanceId instance, InboundMessage message)
    {
        switch (instance.Sequence)
        {
            case VcertRecoverMachine.InstanceSequence when _vcert is { } vcert:
                RunBootstrap(vcert, (c, o) => vcert.Receive(c, message, o));
                return true;
            case StateSyncMachine.InstanceSequence when message.Type == StateSyncWire.RequestType && _provider is { } provider:
                RunBootstrap(provider, (c, o) => provider.Receive(c, message, o));
                return true;
            case StateSyncMachine.InstanceSequence when message.Type == StateSyncWire.AnswerType && _seeker is { } seeker:
                RunBootstrap(seeker, (c, o) => seeker.Receive(c, message, o));
                return true;
            case RecoveryNoticeSequence when instance.Period >= Controller.CurrentPeriod && instance.Period <= Controller.CurrentPeriod + 2:
                var notices = _recoveryNotices.TryGetValue(instance.Period, out var set) ? set : _recoveryNotices[instance.Period] = [];
                if (notices.Add(message.Sender) && !message.Payload.Span.SequenceEqual([(byte)1]))
                {
                    RaiseAlert(new Alert(
                        AlertType.CorruptedShares, message.Sender, Controller.CurrentPeriod, instance,
                        $"server {message.Sender} lost its shares (store wiped or corrupted) and recovers them in period {instance.Period}",
                        message.Signed.ToArray()));
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Recovery events: M adopted from a peer; the public state restored from a peer.</summary>
    private void OnRecoveryEvent(ProtocolEvent emitted)
    {
        switch (emitted)
        {
            case InvariantVerified { Recovered: true } verified when _phase == NodePhase.Recovering:
                OnInvariantAdopted(verified.Certificate);
                break;
            case PublicStateRestored restored when _seeker is not null:
                OnPublicStateRestored(restored);
                break;

            case Protocols.KeyTable.PeriodCertified certified when certified.Period >= 1 && _phase == NodePhase.Operational:
                UpdateProvider(certified.Period);
                break;
        }
    }

    private void OnInvariantAdopted(InvariantCertificate certificate)
    {
        if (!TryReadConstants(certificate.Information.Constants, out var anchor))
        {
            RaiseAlert(new Alert(AlertType.RecoveryFailed, 0, 0, _vcert?.Instance, "the adopted [S_cert(M), M] names another cluster configuration than this server's", []));
            return;
        }

        _information = certificate.Information;
        _constants = certificate.Information.Constants.ToArray();
        _anchor = anchor;
        NodeLog.InvariantAdopted(_logger, Self);
        SeekPublicState(certificate.Information.NetworkKey);
    }

    /// <summary>
    /// An operational server whose public state or shares are gone (corrupted on disk, or lost in a
    /// refresh): it sits out the rest of the period, restores the certified public state from a peer
    /// and announces that it recovers its shares in the next period, as a wiped server does.
    /// </summary>
    private void Rejoin(string reason, bool damaged = true)
    {
        if (_seeker is not null || _information is null)
        {
            return;
        }

        NodeLog.Rejoining(_logger, Self, reason);
        _damaged = damaged;
        if (damaged)
        {
            RaiseAlert(new Alert(AlertType.CorruptedShares, 0, Controller.CurrentPeriod, null, $"this server rejoins: {reason}; it restores the certified public state from a peer and recovers its shares in the next period", []));
        }

        _joinFrom = ulong.MaxValue;
        SeekPublicState(_information.NetworkKey);
    }

    /// <summary>Whether this operational server lacks what a period needs: the public state, or shares it could check.</summary>
    private bool MustRejoin => _restoredState is null && (Controller.PublicState is null || !Controller.HasShares);

    /// <summary>How long before a period starts a recovery notice must go out (peers pass the announced servers to BeginPeriod).</summary>
    private TimeSpan NoticeLead => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMilliseconds(300).Ticks, _config.Period.Ticks / 10));

    private void SeekPublicState(GroupPublicKey networkKey, ulong? oldest = null)
    {
        // The state of the current period: its KeyTable holds the keys the next period's entries are signed with.
        var current = oldest ?? Math.Max(1, PeriodAt(DateTimeOffset.UtcNow));
        _seeker = StateSyncMachine.ForSeeker(StateSyncMachine.InstanceOf(current), Self, networkKey, current, TimeSpan.FromSeconds(1));
        RunBootstrap(_seeker, _seeker.Start);
    }

    private void OnPublicStateRestored(PublicStateRestored restored)
    {
        if (!restored.Certificate.TryGetTable(out var table))
        {
            return;
        }

        var period = restored.Certificate.Period;
        if (DateTimeOffset.UtcNow > PeriodStart(period + 1) - NoticeLead && _information is not null)
        {
            // Too close to the next period for the peers to hear the notice in time: take the next state.
            _seeker = null;
            SeekPublicState(_information.NetworkKey, period + 1);
            return;
        }

        foreach (var entry in table.Entries.Where(e => e.ServerId != Self))
        {
            Controller.KeyDirectory.Set(entry.Entry.Keys);
        }

        _localDirectoryVersion++;
        _pinning.Pin(period, table.Entries.Where(e => e.ServerId != Self).Select(e => e.Entry));
        _restoredState = restored.State;
        // Shares of an older period than the restored state cannot take part in its refresh.
        _sharesStale = Controller.CommittedPeriod != period;
        _joinFrom = period + 1;
        _phase = NodePhase.Operational;
        _seeker = null;
        NodeLog.PublicStateRestored(_logger, Self, period, restored.From, period + 1);
        SendRecoveryNotice();
    }

    /// <summary>Until it joins, a recovering server tells its peers it recovers in the next period (they run share recovery for it).</summary>
    private void SendRecoveryNotice()
    {
        if (_joinFrom is not { } join || join == ulong.MaxValue || Controller.CurrentPeriod >= join || (Controller.HasShares && !_sharesStale)
            || Environment.TickCount64 - _lastNoticeTicks < 500)
        {
            return;
        }

        _lastNoticeTicks = Environment.TickCount64;
        // The payload says why: 0, its store was damaged (peers raise an alert); 1, it fell behind (a crash, a
        // late start: peers only log it).
        Send(new InstanceId(ProtocolKind.Bootstrap, join, RecoveryNoticeSequence), new OutboundMessage(null, 0, 0, 1, [_damaged ? (byte)0 : (byte)1], false));
    }

    /// <summary>Servers that announced they recover their shares in <paramref name="period"/>, plus this one when it must.</summary>
    private List<int> RecoveringIn(ulong period, bool self)
    {
        var set = new SortedSet<int>(_recoveryNotices.GetValueOrDefault(period) ?? []);
        if (self)
        {
            set.Add(Self);
        }

        foreach (var old in _recoveryNotices.Keys.Where(p => p <= period).ToList())
        {
            _recoveryNotices.Remove(old);
        }

        return [.. set];
    }

    private void UpdateProvider(ulong period)
    {
        if (Controller.CertificateOf(period) is not { } certificate || Controller.PublicState is not { } state
            || !certificate.Certifies(period, null, Protocols.KeyTable.PeriodCertificate.HashPublicState(state)))
        {
            return;
        }

        _provider ??= StateSyncMachine.ForProvider(StateSyncMachine.InstanceOf(0), Self);
        _provider.Provide(certificate, state);
    }
}
