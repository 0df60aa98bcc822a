// References: toolkit (seed 001) Table 1 (refresh for period p) and Table 2 (at every period start);
// docs/BRIEF.md section 3 "Refresh for period p"; docs/NODE.md "Periods".
using System.Security.Cryptography;
using Proactive.Node.Storage;
using Proactive.Protocols.Application;
using Proactive.Protocols.Controller;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Hosting;

public sealed partial class NodeHost
{
    private DateTimeOffset? _periodStartedAt;
    private double? _lastRefreshDurationMs;
    private string? _keyTableFingerprint;
    private long _alertCount;

    /// <summary>When period <paramref name="period"/> starts: the anchor M fixes plus p period lengths.</summary>
    public DateTimeOffset PeriodStart(ulong period) => (_anchor ?? DateTimeOffset.UnixEpoch) + (_config.Period * (double)period);

    /// <summary>The period the schedule puts <paramref name="time"/> in (0 before period 1 starts).</summary>
    private ulong PeriodAt(DateTimeOffset time)
    {
        if (_anchor is not { } anchor || time < anchor)
        {
            return 0;
        }

        return (ulong)((time - anchor).Ticks / _config.Period.Ticks);
    }

    /// <summary>How late in a period a server may still start it: the KeyTable's judging window.</summary>
    private TimeSpan LateStart => (_options.Timeouts?.KeyTable ?? NodeTimeouts.ForPeriod(_config.Period).KeyTable!).JudgingWindow;

    private void OnTick()
    {
        Interlocked.Exchange(ref _scheduledPeriod, (long)PeriodAt(DateTimeOffset.UtcNow));
        switch (_phase)
        {
            case NodePhase.Initializing:
                AdvanceInitialization();
                break;
            case NodePhase.Operational:
                SendRecoveryNotice();
                var now = DateTimeOffset.UtcNow;
                var due = PeriodAt(now);
                if (due >= 1 && due > Controller.CurrentPeriod && due >= (_joinFrom ?? 0))
                {
                    if (_restoredState is not null && _joinFrom is { } join && due != join && _information is not null)
                    {
                        // The restored state is of the period before the join: too late for it now.
                        _restoredState = null;
                        SeekPublicState(_information.NetworkKey, due);
                    }
                    else if (_restoredState is null && now - PeriodStart(due) > LateStart && _seeker is null)
                    {
                        // Restarted, or woken up, after its peers judged the KeyTable of the period: its
                        // K_i would be missing and its shares a period behind. It sits the period out.
                        Rejoin($"it reached period {due} {(now - PeriodStart(due)).TotalSeconds:F1} s after its start", damaged: false);
                    }
                    else if (_seeker is null)
                    {
                        StartPeriod(due);
                    }
                }

                break;
        }
    }

    /// <summary>
    /// Table 1 at the start of <paramref name="period"/>: new period keys and TLS certificate (durable
    /// before they are announced), the check of the stored shares, and the controller's period
    /// (KeyTable, share recovery, refresh, certificate).
    /// </summary>
    private void StartPeriod(ulong period)
    {
        _periodStartedAt = DateTimeOffset.UtcNow;
        _lastRefreshStart = Now;
        if (Controller.PeriodKeysOf(period) is null)
        {
            CreatePeriodKeys(period);
        }

        // The certificate announced in the KeyTable of p - 1, which every peer that decided that table
        // pins by now; the one of p is announced now and presented from p + 1 on.
        if (_certificates!.HeldPeriods.Where(p => p < period).DefaultIfEmpty().Max() is var previous
            && _certificates.FingerprintOf(previous) is not null && (_certificates.CurrentPeriod ?? 0) < previous)
        {
            _certificates.SwitchTo(previous);
        }

        var needs = !Controller.HasShares || (_restoredState is not null && _sharesStale);
        _sharesStale = false;
        if (_restoredState is null && (Controller.HasShares || Controller.Digest is not null))
        {
            var stored = Store.TryGet(DataSpace.Private, ServerController.SharesKey, out var bytes) ? bytes : [];
            needs = Controller.CheckStoredShares(Context, stored, period, out var check);
            Apply(check);
        }

        if (MustRejoin)
        {
            // Peers learn of a recovery at the start of the period it runs in only too late to help.
            Apply(Controller.BeginPeriod(Context, period, RecoveringIn(period, self: false)));
            Rejoin(Controller.PublicState is null ? "its public state is missing or corrupted" : "its shares are missing or corrupted");
            return;
        }

        var recovering = RecoveringIn(period, needs);
        StartVcertPush(period);
        NodeLog.PeriodStarts(_logger, Self, period, needs ? " (recovering its shares)" : "", recovering);
        var restored = _restoredState;
        _restoredState = null;
        Apply(Controller.BeginPeriod(Context, period, recovering, restored));

        // Keys of periods before p - 1 can no longer sign or open anything the opener accepts.
        // Every stored one, also after a gap of several periods.
        var erase = new List<PersistRequest>();
        foreach (var old in StoredOwnKeyPeriods().Where(old => old + 1 < period))
        {
            erase.Add(new PersistRequest(ServerController.EraseKey(NodeKeySpace.OwnPeriodKeys(old)), []));
            erase.Add(new PersistRequest(ServerController.EraseKey(NodeKeySpace.OwnTlsCertificate(old)), []));
            if (_certificates!.CurrentPeriod != old)
            {
                _certificates.Retire(old);
            }
        }

        Store.ApplyPersisted(erase);

        _replayGuard.ForgetPeriodsBefore(period - 1);
        _parkedFrames.RemoveAll(f => f.Period + 1 < period);
        _parkedBytes = _parkedFrames.Sum(f => (long)f.Frame.Length);
        _parkedMessages.RemoveAll(m => m.Instance.Period + 1 < period);
    }

    private TimeSpan _lastRefreshStart;

    /// <summary>The periods of which this server's own keys are on disk.</summary>
    private List<ulong> StoredOwnKeyPeriods()
    {
        var prefix = NodeKeySpace.OwnPeriodKeys(0)[..^1];
        var periods = new List<ulong>();
        foreach (var entry in Store.ReadPrefix(DataSpace.Private, prefix))
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(entry.Value);
            if (ulong.TryParse(entry.Key.AsSpan(prefix.Length), out var period))
            {
                periods.Add(period);
            }
        }

        return periods;
    }

    private void OnEvent(InstanceId instance, ProtocolEvent emitted)
    {
        NodeLog.Event(_logger, Self, instance, emitted.GetType().Name);
        switch (emitted)
        {
            case Alert alert:
                RaiseAlert(alert);
                break;
            case PeriodCommitted committed when committed.Period >= 1:
                _lastRefreshDurationMs = (Now - _lastRefreshStart).TotalMilliseconds;
                NodeLog.PeriodCommitted(_logger, Self, committed.Period, _lastRefreshDurationMs.Value);
                Metrics.RefreshCommitted(TimeSpan.FromMilliseconds(_lastRefreshDurationMs.Value));
                break;
            case KeyTableDecided decided when decided.Instance.Sequence == 0:
                OnKeyTableDecided(decided);
                break;
            case LedgerRequestApplied applied:
                OnLedgerRequestApplied(applied);
                break;
            case LedgerStateInstalled:
                // The state came from peers, not from applied requests: the registrations in it too.
                RefreshDirectory();
                break;
            case AppSignatureProduced or AppSigningFailed or AppKeyGenerated:
                OnAppSigningEvent(emitted);
                break;
            case LinkMessageArrived arrived:
                OnLinkMessage(arrived);
                break;
        }

        OnInitializationEvent(emitted);
        OnRecoveryEvent(emitted);
    }

    /// <summary>The KeyTable of p decided: pin the peers' certificates (presented from p + 1 on) and keep their keys.</summary>
    private void OnKeyTableDecided(KeyTableDecided decided)
    {
        var period = decided.Instance.Period;
        if (!KeyTableDocument.TryDecode(decided.EncodedTable, _config.Parameters.ServerCount, out var table))
        {
            return;
        }

        _keyTableFingerprint = Convert.ToHexStringLower(SHA256.HashData(decided.EncodedTable));
        var others = table.Entries.Where(e => e.ServerId != Self).Select(e => e.Entry).ToList();
        _pinning.Pin(period, others);
        Store.ApplyPersisted([new PersistRequest(NodeKeySpace.PeerKeys(period), EncodePeerEntries(others))]);
    }

    private void Publish(string? state)
    {
        var controller = _controller;
        var period = controller?.CurrentPeriod ?? 0;
        state ??= _phase switch
        {
            NodePhase.Initializing => "initializing",
            NodePhase.Recovering => "recovering",
            _ when controller is { HasShares: true } => "operational",
            _ => "recovering",
        };
        var networkKey = controller?.PublicState is { SigningKeyCount: > 0 } publicState
            ? Convert.ToHexStringLower(_config.Suite.Group.EncodeElement(publicState.SigningKeyCommitments[0].ConstantTerm))
            : null;
        _snapshot = new NodeSnapshot(
            Self,
            state,
            period,
            controller?.CommittedPeriod,
            _periodStartedAt,
            _phase == NodePhase.Operational && _anchor is not null ? PeriodStart(Math.Max(period, PeriodAt(DateTimeOffset.UtcNow)) + 1) : null,
            _lastRefreshDurationMs,
            networkKey,
            _keyTableFingerprint,
            Interlocked.Read(ref _alertCount),
            _snapshot.StartedAt,
            _counters.ToDictionary());
        ObserveLoop(state);
    }
}
