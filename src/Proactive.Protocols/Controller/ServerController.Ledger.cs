// References: docs/BRIEF.md section 1 (invariants 2 and 6), section 3 ("Broadcast and agreement") and
// section 5 (the application API); docs/PROTOCOLS.md "Application ledger".
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Application;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Controller;

/// <summary>
/// The applications' ledger wiring: requests clients signed are forwarded to every server on the
/// submission channel (Ledger, p, 0), proposed in batches by ledger instances (Ledger, L, k), decided one
/// after the other by agreement and applied in order by every server. The ledger of L is sealed by a
/// batch proposed once servers are in L + 1; the refresh of L + 2 refreshes what it stored, so every
/// honest server refreshes from the same application state (see <see cref="LedgerAllowsRefresh"/>).
/// </summary>
/// <remarks>
/// <para>A server whose ledger is more than one period behind (down for longer, wiped) cannot catch up
/// through agreement (peers keep instances of the current and previous period only): it does not take
/// part in the ledger and its refresh does not wait for it (<see cref="IsLedgerCurrent"/>).</para>
/// <para>Durable state: the application state and the position under <see cref="ApplicationKeys.Prefix"/>,
/// the open instance's agreement state under its <see cref="TendermintAgreement.StateKey"/> (restored after a
/// restart so that this server never votes against what it voted before). Agreement states of decided
/// instances are erased once <see cref="RetainedLedgerInstances"/> newer ones are decided.</para>
/// </remarks>
public sealed partial class ServerController
{
    /// <summary>Decided ledger instances kept to answer lagging servers with their certificates.</summary>
    public const int RetainedLedgerInstances = 16;

    /// <summary>How many instances past the open one may buffer messages (peers a few decisions ahead).</summary>
    public const int LedgerLookahead = 8;

    private readonly ApplicationLedger _ledger = new();
    private readonly Dictionary<InstanceId, byte[]> _restoredLedgerAgreements = [];
    private readonly Queue<InstanceId> _decidedLedgerInstances = new();

    /// <summary>The applications' agreed state and pool (read it on the driver's thread only).</summary>
    public ApplicationLedger Ledger => _ledger;

    /// <summary>
    /// When period p starts and how long it is (unix milliseconds), set by the driver from the period
    /// schedule: requests are timely in a period's ledger by these. Without it no request is taken.
    /// </summary>
    public Func<ulong, (ulong Start, ulong Length)>? PeriodSchedule { get; set; }

    /// <summary>Whether this server's ledger can follow the network's (at most one period behind).</summary>
    public bool IsLedgerCurrent => _publicState is not null && _ledger.Period <= CurrentPeriod && _ledger.Period + 1 >= CurrentPeriod;

    /// <summary>
    /// The server that leads round 0 of the next ledger instance this server opens (the one after the instance
    /// running now, if one is), or null while its ledger does not follow the network's: a hint for clients.
    /// </summary>
    public int? NextLedgerProposer
    {
        get
        {
            if (!IsLedgerCurrent)
            {
                return null;
            }

            var next = new InstanceId(ProtocolKind.Ledger, _ledger.Period, _ledger.NextSequence);
            if (_machines.ContainsKey(next))
            {
                next = new InstanceId(ProtocolKind.Ledger, _ledger.Period, _ledger.NextSequence + 1);
            }

            return TendermintAgreement.Proposer(AgreementWiring.InstanceSeed(next), 0, _parameters.ServerCount);
        }
    }

    /// <summary>The submission channel of <paramref name="period"/>.</summary>
    public static InstanceId LedgerSubmissions(ulong period) => new(ProtocolKind.Ledger, period, 0);

    /// <summary>The context requests of <paramref name="period"/>'s ledger are applied in.</summary>
    public LedgerContext? LedgerContextOf(ulong period) =>
        PeriodSchedule?.Invoke(period) is var (start, length) ? new LedgerContext(_network.ToString(), _parameters.ServerCount, period, start, length) : null;

    /// <summary>
    /// A client's request arrived here (its signature already checked by the API): take it into the
    /// pool, forward it to every peer and start the next ledger instance if none is running.
    /// </summary>
    public ControllerStep SubmitRequest(ProtocolContext context, SignedRequest request, out SubmitOutcome outcome)
    {
        CheckContext(context);
        ArgumentNullException.ThrowIfNull(request);
        var step = new ControllerStep();
        if (!IsLedgerCurrent || LedgerContextOf(CurrentPeriod) is not { } ledgerContext || !_ownKeys.ContainsKey(CurrentPeriod))
        {
            outcome = SubmitOutcome.Busy;
            return step;
        }

        outcome = _ledger.Submit(request, ledgerContext);
        if (outcome == SubmitOutcome.Accepted)
        {
            var outbox = new Outbox();
            outbox.Broadcast(0, LedgerMachine.SubmitRound, LedgerMachine.SubmitType, request.Encode());
            step.Add(LedgerSubmissions(CurrentPeriod), outbox);
            StartLedgerIfReady(context, step);
        }

        return step;
    }

    /// <summary>A peer forwarded a request: take it if it is authentic and new (a request this server cannot authenticate yet, e.g. from an application registered in a batch not applied here yet, waits for the peer's batch).</summary>
    private void ReceiveSubmission(ProtocolContext context, InboundMessage message, ControllerStep step)
    {
        if (message.Round != LedgerMachine.SubmitRound || message.Type != LedgerMachine.SubmitType
            || !SignedRequest.TryDecode(message.Payload.Span, out var request))
        {
            var outbox = new Outbox();
            outbox.Emit(new Alert(AlertType.MalformedMessage, message.Sender, CurrentPeriod, LedgerSubmissions(CurrentPeriod), "undecodable forwarded request", message.Signed.ToArray()));
            step.Add(LedgerSubmissions(CurrentPeriod), outbox);
            return;
        }

        if (IsLedgerCurrent && LedgerContextOf(CurrentPeriod) is { } ledgerContext && _ledger.Submit(request, ledgerContext) == SubmitOutcome.Accepted)
        {
            StartLedgerIfReady(context, step);
        }
    }

    private bool IsExpectedLedger(InstanceId instance)
    {
        if (!IsLedgerCurrent)
        {
            return false;
        }

        var open = _ledger.Period;
        return instance.Sequence != 0
            && ((instance.Period == open && instance.Sequence >= _ledger.NextSequence && instance.Sequence <= _ledger.NextSequence + LedgerLookahead)
                || (instance.Period == open + 1 && instance.Period <= CurrentPeriod + 1 && instance.Sequence <= LedgerLookahead));
    }

    /// <summary>Starts the open ledger instance when there is something to decide: pending requests, a seal owed, or peers already running it.</summary>
    private void StartLedgerIfReady(ProtocolContext context, ControllerStep step)
    {
        if (!IsLedgerCurrent || !_ownKeys.ContainsKey(_ledger.Period))
        {
            return;
        }

        var period = _ledger.Period;
        var instance = new InstanceId(ProtocolKind.Ledger, period, _ledger.NextSequence);
        if (_machines.ContainsKey(instance))
        {
            return;
        }

        var agreement = AgreementWiring.AgreementFor(instance);
        var needed = _ledger.PendingCount > 0 || period < CurrentPeriod
            || _buffered.ContainsKey(agreement) || _restoredLedgerAgreements.ContainsKey(agreement);
        if (!needed || LedgerContextOf(period) is null)
        {
            return;
        }

        StartMachine(context, new LedgerMachine(instance, _ledger, () => CurrentPeriod > period, () => LedgerContextOf(period)!, KeepCarriedShare), step);
    }

    /// <summary>The agreement of a ledger instance: restored from its persisted state when this server voted in it before a restart.</summary>
    private TendermintAgreement? LedgerAgreement(LedgerMachine ledger, InstanceId agreementId, Envelopes.PeriodKeys keys, Func<int, Crypto.Signing.Ed25519PublicKey?> publicKeys, ControllerStep step)
    {
        var parent = ledger.Instance;
        var instanceContext = AgreementWiring.InstanceContext(parent, _network);
        if (_restoredLedgerAgreements.Remove(agreementId, out var persisted))
        {
            if (TendermintAgreement.TryRestore(agreementId, _parameters, Self, keys.Signing, publicKeys, instanceContext, ledger.CurrentProposal, ledger.IsAcceptableBatch,
                AgreementWiring.InstanceSeed(parent), persisted, out var restored, out var failure, _timeouts.Agreement))
            {
                restored.CertifiesNonSignersOnly = true;
                return restored;
            }

            // Never vote afresh in an instance whose earlier votes are unreadable: that could contradict them.
            var outbox = new Outbox();
            outbox.Emit(new Alert(AlertType.CorruptedShares, Self, CurrentPeriod, agreementId, $"the persisted agreement state of {parent} is unusable ({failure}); this server stays out of the ledger until it is recovered", []));
            step.Add(parent, outbox);
            return null;
        }

        // Ledger instances decide one after the other all day: a certificate goes only to the servers that did
        // not sign it (the others decide on the same precommits, or ask), not to every server.
        return new TendermintAgreement(agreementId, _parameters, Self, keys.Signing, publicKeys, instanceContext, ledger.CurrentProposal, ledger.IsAcceptableBatch,
            AgreementWiring.InstanceSeed(parent), _timeouts.Agreement)
        {
            CertifiesNonSignersOnly = true,
        };
    }

    /// <summary>After a decided batch was applied: retire old instances, start the next one, and after a seal let the refresh go.</summary>
    private void OnLedgerDecided(ProtocolContext context, LedgerMachine ledger, ControllerStep step)
    {
        _decidedLedgerInstances.Enqueue(ledger.Instance);
        var erase = new Outbox();
        while (_decidedLedgerInstances.Count > RetainedLedgerInstances)
        {
            var old = _decidedLedgerInstances.Dequeue();
            var agreementId = AgreementWiring.AgreementFor(old);
            _machines.Remove(old);
            _machines.Remove(agreementId);
            _latestProposal.Remove(old);
            erase.Persist(EraseKey(TendermintAgreement.StateKey(agreementId)), []);
        }

        step.Add(ledger.Instance, erase);
        StartAppKeyDkgs(context, ledger.Instance.Period, step);
        if (_ledger.Period > ledger.Instance.Period)
        {
            // Sealed: drop what the next ledger can no longer apply; a refresh waiting for this seal may start.
            if (LedgerContextOf(_ledger.Period) is { } next)
            {
                _ledger.DropUntimely(next);
            }

            StartRefreshIfReady(context, step);
        }

        StartLedgerIfReady(context, step);
    }

    /// <summary>
    /// Whether the refresh of the current period p may start as far as the ledger is concerned: it
    /// refreshes the secrets the ledgers up to p - 2 stored, whose seal was decided during p - 1, so in
    /// a running network it never waits (secrets stored in period L join the share vector at the
    /// refresh of L + 2 and are held as dealt until then).
    /// </summary>
    private bool LedgerAllowsRefresh => PeriodSchedule is null || !IsLedgerCurrent || CurrentPeriod < 2 || _ledger.IsSealed(CurrentPeriod - 2);

    private static void RestoreLedger(ServerController controller, IReadOnlyDictionary<string, byte[]> store)
    {
        foreach (var (key, value) in store)
        {
            if (key == ApplicationLedger.PositionKey)
            {
                controller._ledger.TryLoadPosition(value);
            }
            else if (key.StartsWith(ApplicationKeys.Prefix, StringComparison.Ordinal))
            {
                controller._ledger.State.TryLoad(key, value);
            }
        }

        foreach (var sequence in Enumerable.Range(0, LedgerLookahead + 1))
        {
            var parent = new InstanceId(ProtocolKind.Ledger, controller._ledger.Period, controller._ledger.NextSequence + (ulong)sequence);
            var agreementId = AgreementWiring.AgreementFor(parent);
            if (store.TryGetValue(TendermintAgreement.StateKey(agreementId), out var state))
            {
                controller._restoredLedgerAgreements[agreementId] = state;
            }
        }
    }
}
