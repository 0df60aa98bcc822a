// References: docs/BRIEF.md section 4 ("controller: dispatches messages to protocol instances"),
// section 1 ("At the start of every period every server runs recover then refresh") and section 3
// ("Refresh for period p": commit atomically, new shares durable first, then old ones erased);
// toolkit (seed 001) Tables 1-2; docs/PROTOCOLS.md "Controller and simulator".
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Application;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Randomness;
using Proactive.Protocols.Recovery;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Controller;

/// <summary>
/// One server's controller: it owns the protocol machines of the current and the previous period,
/// keyed by <see cref="InstanceId"/>, routes each authenticated inbound message to its machine, wires
/// every proposal event to a <see cref="TendermintAgreement"/> instance and every decision back to its
/// parent, and runs the period lifecycle (recover, then refresh every long-lived secret in one
/// <see cref="RefreshMachine"/>, then swap in the new shares). Pure: no clock, no I/O, no randomness
/// of its own; every call returns a <see cref="ControllerStep"/> the driver applies.
/// </summary>
/// <remarks>
/// <para><b>Routing.</b> A message for a running instance goes to its machine. A message for an
/// instance this server expects but has not started yet (this period's refresh while recovery runs,
/// an agreement whose parent has not proposed yet, the next period's instances while this server is
/// still finishing the current period) is buffered, up to <see cref="MaxBufferedPerInstance"/> per
/// instance, and replayed when the instance starts. A message for an instance two or more periods old
/// is a replay (alert <see cref="AlertType.Replay"/>, blaming the message's sender); anything else
/// is dropped with a reason. Behind the envelope layer this never happens (its opener refuses
/// envelopes older than the previous period first, and blames a replay on the link-level sender that
/// delivered it, not on the signer); the check serves drivers without one.</para>
/// <para><b>Agreement.</b> <see cref="AgreementWiring"/> maps a parent to its agreement instance;
/// getValue returns the parent's latest proposal, isValid is the parent's predicate, votes are signed
/// with this server's period key of the parent's period.</para>
/// <para><b>Durable state</b> (keys under <c>controller/</c>): the share vector, the public state,
/// this server's digest and the committed period. Old copies are erased with tombstones
/// (<see cref="EraseKey"/>): a persisted key <c>erase:K</c> tells the driver to delete K, then the
/// tombstone itself, after the step's other writes are durable.</para>
/// <para>States of a period (one method per transition):
/// <code>
/// Idle       --BeginPeriod(p) [recovery needed]--&gt; Recovering --all recoveries finished--&gt; Refreshing
/// Idle       --BeginPeriod(p) [no recovery]------&gt; Refreshing
/// Refreshing --RefreshCompleted-----------------&gt; Committed (shares swapped) | SharesLost
/// </code></para>
/// </remarks>
public sealed partial class ServerController : IDisposable
{
    /// <summary>Messages buffered per instance that is expected but not started.</summary>
    public const int MaxBufferedPerInstance = 4096;

    /// <summary>The durable key of the current share vector (SECRET).</summary>
    public const string SharesKey = "controller/shares";

    /// <summary>The durable key of the current public state.</summary>
    public const string PublicStateKey = "controller/public-state";

    /// <summary>The durable key of this server's digest of its current share vector.</summary>
    public const string DigestKey = "controller/digest";

    /// <summary>The durable key of the period whose refresh last committed here (u64 big-endian).</summary>
    public const string CommittedPeriodKey = "controller/period";

    /// <summary>The tombstone prefix: persisting <c>erase:K</c> asks the driver to delete K.</summary>
    public const string ErasePrefix = "erase:";

    /// <summary>The period-0 DKG of the network key (the Schnorr/FROST signing key, signing-key index 0).</summary>
    public static readonly InstanceId NetworkKeyDkg = new(ProtocolKind.Dkg, 0, 0);

    /// <summary>
    /// The period-0 DKG of the DPRF key (joint randomness, docs/PROTOCOLS.md "Joint randomness"): a key of
    /// its own, never used to sign, carried as signing-key index <see cref="DprfKeyIndex"/> of the vector
    /// (full Feldman commitments, so every server's public share X_i exists for the DLEQ checks).
    /// </summary>
    public static readonly InstanceId DprfKeyDkg = new(ProtocolKind.Dkg, 0, 1);

    /// <summary>
    /// The TLS certificate fingerprint this controller puts in its KeyTable entry: the node has no TLS
    /// layer yet (the simulator none at all), so 32 zero bytes until it does.
    /// </summary>
    public static ReadOnlySpan<byte> NoTlsFingerprint => new byte[KeyTableEntry.FingerprintLength];

    /// <summary>Where the DPRF key sits in the share vector and the public state's signing keys, when present.</summary>
    public const int DprfKeyIndex = 1;

    private readonly Dictionary<InstanceId, IProtocolMachine> _machines = [];
    private readonly Dictionary<InstanceId, byte[]> _latestProposal = [];
    private readonly Dictionary<InstanceId, List<InboundMessage>> _buffered = [];
    private readonly Dictionary<ulong, HashSet<int>> _heardFrom = [];
    private readonly Dictionary<ulong, PeriodKeys> _ownKeys = [];
    private readonly PeriodKeyDirectory _directory = new();
    private readonly HashSet<InstanceId> _pendingRecoveries = [];
    private readonly Dictionary<ulong, byte[]> _restoredOwnSubShares = [];
    private readonly ClusterParameters _parameters;
    private readonly PrimeOrderGroup _group;
    private readonly NetworkId _network;
    private readonly ControllerTimeouts _timeouts;
    private ShareVector? _shares;
    private RefreshPublicState? _publicState;
    private ShareVectorDigest? _digest;
    private DkgCompleted? _networkKey;
    private Scalar _networkKeyShare;
    private bool _hasNetworkKeyShare;
    private DkgCompleted? _dprfKey;
    private Scalar _dprfKeyShare;
    private bool _hasDprfKeyShare;
    private bool _refreshStarted;
    private bool _disposed;

    /// <summary>A controller for server <paramref name="self"/> whose long-lived secrets live in <paramref name="group"/>.</summary>
    public ServerController(int self, ClusterParameters parameters, PrimeOrderGroup group, NetworkId network, ControllerTimeouts? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        Self = self;
        _parameters = parameters;
        _group = group;
        _network = network;
        _timeouts = timeouts ?? ControllerTimeouts.Default;
    }

    public int Self { get; }

    /// <summary>The period of the last <see cref="BeginPeriod"/> (0 before).</summary>
    public ulong CurrentPeriod { get; private set; }

    /// <summary>The period whose refresh last committed here (the DKG period after the initial import); null before.</summary>
    public ulong? CommittedPeriod { get; private set; }

    /// <summary>True when this server holds shares it believes valid.</summary>
    public bool HasShares => _shares is not null;

    /// <summary>The public state of the last commit (group keys, signing-key commitments).</summary>
    public RefreshPublicState? PublicState => _publicState;

    /// <summary>This server's digest of its current vector, as published in the period root.</summary>
    public ShareVectorDigest? Digest => _digest;

    /// <summary>The DKG result (network key), once completed here.</summary>
    public DkgCompleted? NetworkKey => _networkKey;

    /// <summary>The DPRF key's DKG result, once completed here (null if the network has no DPRF key).</summary>
    public DkgCompleted? DprfKey => _dprfKey;

    /// <summary>True when the share vector carries the DPRF key (signing-key index <see cref="DprfKeyIndex"/>).</summary>
    public bool HasDprfKey => _publicState is { SigningKeyCount: > DprfKeyIndex };

    /// <summary>The running instances (current and previous period), for status pages and tests.</summary>
    public IReadOnlyCollection<InstanceId> Instances => _machines.Keys;

    /// <summary>Test and simulator hook: faulty refresh dealing behaviour of this server (never set in the node).</summary>
    internal Func<InstanceId, RefreshDealerFaults?>? RefreshFaults { get; set; }

    /// <summary>The period of the last missed refresh this server started applying (<see cref="RefreshMachine.ForMissedRefresh"/>), if any.</summary>
    public ulong? MissedRefreshApplied { get; private set; }

    /// <summary>
    /// At the start of <paramref name="period"/>: this server committed period - 2 and was not part of the
    /// refresh of period - 1 (down for all of it: no machine of it here), so it can apply that refresh now.
    /// A server that took part and ended it <see cref="RefreshSharesLost"/> cannot: it needs recovery.
    /// </summary>
    private bool CanApplyMissedRefresh(ulong period) =>
        period >= 2 && CommittedPeriod is { } committed && committed + 2 == period
        && !_machines.ContainsKey(new InstanceId(ProtocolKind.Refresh, period - 1, 0));

    /// <summary>The current share vector, for the simulator's adversary (which reads servers) and checks.</summary>
    internal ShareVector? CurrentShares => _shares;

    internal IProtocolMachine? MachineOf(InstanceId instance) => _machines.GetValueOrDefault(instance);

    /// <summary>The tombstone that erases <paramref name="key"/>.</summary>
    public static string EraseKey(string key) => ErasePrefix + key;

    /// <summary>
    /// Rebuilds a controller after a restart from its durable state (what <see cref="Outbox.Persist"/>
    /// wrote under <c>controller/</c>). Machines are not restored: a server that restarts mid-period
    /// sits the period out and rejoins at the next <see cref="BeginPeriod"/>.
    /// </summary>
    public static ServerController Restore(int self, ClusterParameters parameters, PrimeOrderGroup group, NetworkId network, ControllerTimeouts? timeouts, IReadOnlyDictionary<string, byte[]> store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var controller = new ServerController(self, parameters, group, network, timeouts);
        if (store.TryGetValue(PublicStateKey, out var state) && RefreshPublicState.TryDecode(state, group, out var publicState))
        {
            controller._publicState = publicState;
        }

        if (store.TryGetValue(DigestKey, out var digest) && ShareVectorDigest.TryDecode(digest, out var decodedDigest))
        {
            controller._digest = decodedDigest;
        }

        if (store.TryGetValue(CommittedPeriodKey, out var period) && period.Length == 8)
        {
            controller.CommittedPeriod = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(period);
            controller.CurrentPeriod = controller.CommittedPeriod.Value;
        }

        if (store.TryGetValue(SharesKey, out var shares) && ShareVector.TryDecode(shares, group, out var vector))
        {
            controller._shares = vector;
        }

        // What this server dealt itself in a refresh it may have crashed through (MissedRefresh).
        if (controller.CommittedPeriod is { } last
            && store.TryGetValue(RefreshMachine.OwnSubSharesPersistKeyOf(new InstanceId(ProtocolKind.Refresh, last + 1, 0)), out var own))
        {
            controller._restoredOwnSubShares[last + 1] = own.ToArray();
        }

        RestoreCertificates(controller, store);
        RestoreLedger(controller, store);
        RestoreSecrets(controller, store);
        RestoreAppKeys(controller, store);
        return controller;
    }

    /// <summary>Installs the period keys of <paramref name="own"/>.Period (the controller takes ownership) and everybody's public keys.</summary>
    public void InstallPeriodKeys(PeriodKeys own, IEnumerable<PeriodPublicKeys> everyone)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(everyone);
        if (own.ServerId != Self)
        {
            throw new ArgumentException("These are another server's keys.", nameof(own));
        }

        if (_ownKeys.Remove(own.Period, out var replaced))
        {
            replaced.Dispose();
        }

        _ownKeys[own.Period] = own;
        foreach (var keys in everyone)
        {
            _directory.TryAdd(keys);
        }

        foreach (var old in _ownKeys.Keys.Where(p => p + 1 < own.Period).ToList())
        {
            _ownKeys.Remove(old, out var erased);
            erased!.Dispose();
        }

        if (own.Period >= 1)
        {
            _directory.RemovePeriodsBefore(own.Period - 1);
        }
    }

    /// <summary>
    /// This server's installed keys of <paramref name="period"/> (the current and the previous period
    /// are kept), or null: what its envelope layer signs and decrypts with, the same keys its agreement
    /// votes are signed with and its KeyTable entry announces. Owned by the controller (do not dispose);
    /// erased when a later <see cref="InstallPeriodKeys"/> retires the period.
    /// </summary>
    public PeriodKeys? PeriodKeysOf(ulong period) => _ownKeys.GetValueOrDefault(period);

    /// <summary>Every server's installed public keys by period: what this server's envelope layer verifies and encrypts to, and its agreement checks votes with.</summary>
    public PeriodKeyDirectory KeyDirectory => _directory;

    /// <summary>Period 0: starts the DKG of the network key (toolkit Table 3).</summary>
    /// <exception cref="InvalidOperationException">The period keys of the instance's period are not installed (<see cref="InstallPeriodKeys"/>).</exception>
    public ControllerStep StartDkg(ProtocolContext context, InstanceId instance, byte[]? persistedDealerState = null)
    {
        CheckContext(context);
        if (!_ownKeys.TryGetValue(instance.Period, out var keys))
        {
            throw new InvalidOperationException($"Install the period keys of period {instance.Period} before starting its DKG: complaints are signed with them.");
        }

        var step = new ControllerStep();
        var period = instance.Period;
        var dkg = new DkgMachine(
            instance, _group, _timeouts.Dkg, keys.Signing, server => _directory.TryGet(server, period, out var k) ? k.Signing : null,
            _network.ToArray(), persistedDealerState);
        StartMachine(context, dkg, step);
        return step;
    }

    /// <summary>
    /// The client dealt the data secrets (BRIEF section 5): this server's vector becomes
    /// [network-key share, DPRF-key share (if its DKG ran), data-key shares...], the public state lists
    /// the network key's (and the DPRF key's) commitment as signing keys, and a fresh digest is
    /// recorded. Needs the completed DKG.
    /// </summary>
    public ControllerStep ImportDataShares(ProtocolContext context, IReadOnlyList<Scalar> dataShares)
    {
        CheckContext(context);
        ArgumentNullException.ThrowIfNull(dataShares);
        if (_networkKey is null || !_hasNetworkKeyShare)
        {
            throw new InvalidOperationException("The network key's DKG has not completed here.");
        }

        var withDprf = _dprfKey is not null && _hasDprfKeyShare;
        var signing = withDprf ? 2 : 1;
        var values = new Scalar[signing + dataShares.Count];
        values[0] = _networkKeyShare;
        if (withDprf)
        {
            values[DprfKeyIndex] = _dprfKeyShare;
        }

        for (var k = 0; k < dataShares.Count; k++)
        {
            values[k + signing] = dataShares[k];
        }

        var vector = new ShareVector(_group, Self, values);
        Array.Clear(values);
        var state = new RefreshPublicState(_group, vector.Count, withDprf ? [_networkKey.Combined, _dprfKey!.Combined] : [_networkKey.Combined]);
        var digest = ShareVectorDigest.Compute(vector, context.Random);
        var step = new ControllerStep();
        var outbox = new Outbox();
        Commit(outbox, vector, state, digest, _networkKey.Instance.Period);
        step.Add(_networkKey.Instance, outbox);
        return step;
    }

    /// <summary>
    /// Checks what the driver read from disk under <see cref="SharesKey"/> against the recorded digest
    /// (BRIEF "Refresh at scale": at every period start the server recomputes it). A mismatch drops the
    /// shares and raises <see cref="AlertType.CorruptedShares"/>; the caller then lists this server as
    /// recovering. Returns whether recovery is needed. Shares one refresh old that this server missed
    /// while down are kept (applied at <see cref="BeginPeriod"/>); staler ones are dropped without
    /// recovery, which could only check them against an outdated digest.
    /// </summary>
    public bool CheckStoredShares(ProtocolContext context, ReadOnlySpan<byte> stored, ulong period, out ControllerStep step)
    {
        CheckContext(context);
        step = new ControllerStep();
        if (_digest is null || _publicState is null)
        {
            return _shares is null && CommittedPeriod is not null;
        }

        var outbox = new Outbox();
        string? problem = IncompleteSharesProblem(outbox);
        var stale = CommittedPeriod is { } committed && committed + 1 < period && !CanApplyMissedRefresh(period);
        if (!ShareVector.TryDecode(stored, _group, out var fromDisk))
        {
            problem = "the stored share vector is missing or does not decode";
        }
        else if (problem is null && (fromDisk.Index != Self || fromDisk.Count != _publicState.SecretCount || !_digest!.Matches(fromDisk)))
        {
            problem = "the stored share vector does not match its recorded digest";
        }
        else if (stale)
        {
            // One refresh missed while down is applied at BeginPeriod (ForMissedRefresh); more, or one this
            // server took part in and lost, need a digest the network vouches for.
            problem = $"the stored shares are of period {CommittedPeriod}: a refresh was missed";
        }

        if (problem is null)
        {
            _shares?.Dispose();
            _shares = fromDisk;
            return false;
        }

        fromDisk?.Dispose();
        _shares?.Dispose();
        _shares = null;
        var instance = new InstanceId(ProtocolKind.ShareRecovery, period, (ulong)Self);
        outbox.Emit(new Alert(AlertType.CorruptedShares, Self, period, instance, problem, []));
        if (stale)
        {
            // Recovery checks against this server's recorded digest, which is older than the shares the
            // network now holds: it cannot succeed, so do not run it (the server deals and votes, on time).
            step.Add(instance, outbox);
            return false;
        }

        outbox.Emit(new RecoveryNeeded(period, problem));
        step.Add(instance, outbox);
        return true;
    }

    /// <summary>
    /// Period p begins: retire instances older than p-1, run share recovery for every server in
    /// <paramref name="recovering"/> (as helper or as the recovering server), then (once those
    /// finish) the refresh of every long-lived secret. <paramref name="currentPublicState"/> is the
    /// public state fetched from peers (verified against the signed root by the caller) for a server
    /// that lost its own; null keeps the local one.
    /// </summary>
    public ControllerStep BeginPeriod(ProtocolContext context, ulong period, IReadOnlyCollection<int> recovering, RefreshPublicState? currentPublicState = null)
    {
        CheckContext(context);
        ArgumentNullException.ThrowIfNull(recovering);
        if (period <= CurrentPeriod && _refreshStarted)
        {
            throw new InvalidOperationException($"Period {period} is not after {CurrentPeriod}.");
        }

        var step = new ControllerStep();
        CurrentPeriod = period;
        _refreshStarted = false;
        Retire(period);
        EnterAppSigningPeriod(context, period, step);
        if (currentPublicState is not null)
        {
            _publicState = currentPublicState;
            if (currentPublicState.DataKeyCount == 0)
            {
                // The digest on this server's disk belongs to the shares of an older state; with no data
                // keys, recovered shares are checked against the commitments of the state given here.
                _digest = null;
            }
        }

        if (currentPublicState is not null && recovering.Contains(Self))
        {
            // Shares of an older state are worthless against the state given here: recovery replaces them.
            _shares?.Dispose();
            _shares = null;
        }

        if (_publicState is null)
        {
            return step;
        }

        // Down for the whole refresh of period - 1 (shares of period - 2, disk intact): apply it first.
        var catchingUp = false;
        if (currentPublicState is null && _shares is not null && CanApplyMissedRefresh(period))
        {
            var missed = new InstanceId(ProtocolKind.Refresh, period - 1, 0);
            _machines.Remove(missed, out var stale);
            (stale as IDisposable)?.Dispose();
            var late = RefreshMachine.ForMissedRefresh(missed, _parameters, Self, _publicState, _shares, _digest, _timeouts.Refresh, _restoredOwnSubShares.GetValueOrDefault(missed.Period));
            _pendingRecoveries.Add(missed);
            catchingUp = true;
            MissedRefreshApplied = missed.Period;
            StartMachine(context, late, step);
        }

        foreach (var r in recovering.Where(r => r >= 1 && r <= _parameters.ServerCount).Distinct().Order())
        {
            var instance = new InstanceId(ProtocolKind.ShareRecovery, period, (ulong)r);
            RecoveryMachine machine;
            if (r == Self)
            {
                // Signing-key shares are checked against their commitments, data-key shares against the
                // recorded digest, or without one (a server that lost its store) by t + 1 + f helpers agreeing.
                machine = new RecoveryMachine(instance, _parameters, Self, r, _publicState, null, _digest, _timeouts.Recovery);
            }
            else if (_shares is not null && !catchingUp)
            {
                // (A server still catching up holds the shares of an older period: it cannot help.)
                machine = new RecoveryMachine(instance, _parameters, Self, r, _publicState, _shares, null, _timeouts.Recovery);
            }
            else
            {
                continue;
            }

            _pendingRecoveries.Add(instance);
            StartMachine(context, machine, step);
        }

        StartKeyTable(context, period, recovering, step);
        StartPeriodCertificate(context, period, recovering, step);
        StartLedgerIfReady(context, step);
        StartLedgerSyncIfNeeded(context, step);
        StartRefreshIfReady(context, step);
        return step;
    }

    /// <summary>
    /// The SHA-256 fingerprint of this server's TLS certificate for a period, announced in its KeyTable
    /// entry so peers pin it (set by the node; the simulator has no TLS and announces zeros).
    /// </summary>
    public Func<ulong, byte[]?>? TlsFingerprintOf { get; set; }

    /// <summary>
    /// Goes up each time the directory learns keys (from authenticated KeyTable entries, or from the
    /// decided table): when it changed, the node opens again the envelopes it parked for want of them.
    /// </summary>
    public int DirectoryVersion { get; private set; }

    /// <summary>
    /// The keys a KeyTable instance vouches for go into the directory: before the decision, entries
    /// signed with the sender's previous key (they are its own); at the decision, every entry of the
    /// decided table, which overrides what was learned before (Table 1: the KeyTable is what holds).
    /// </summary>
    private void LearnKeysFrom(KeyTableMachine table)
    {
        var changed = false;
        if (table.DecidedTable is { } decided)
        {
            foreach (var entry in decided.Entries.Where(e => e.ServerId != Self))
            {
                changed |= _directory.Set(entry.Entry.Keys);
            }
        }
        else
        {
            foreach (var keys in table.AuthenticatedKeys.Where(k => k.ServerId != Self))
            {
                changed |= !_directory.TryGet(keys.ServerId, keys.Period, out _) && _directory.TryAdd(keys);
            }
        }

        if (changed)
        {
            DirectoryVersion++;
        }
    }

    /// <summary>The KeyTable instance of <paramref name="period"/>.</summary>
    public static InstanceId KeyTableOf(ulong period) => new(ProtocolKind.KeyTable, period, 0);

    /// <summary>
    /// Toolkit Table 1: this server announces its period keys K_i (signed with S_i(p) and, when held,
    /// S_i(p-1)) through a <see cref="KeyTableMachine"/>; its proposal goes to agreement like any other,
    /// and the decision is emitted as <see cref="KeyTableDecided"/>. It runs next to recovery and the
    /// refresh (neither waits for it; see docs/PROTOCOLS.md "Controller and simulator").
    /// </summary>
    private void StartKeyTable(ProtocolContext context, ulong period, IReadOnlyCollection<int> recovering, ControllerStep step)
    {
        var instance = KeyTableOf(period);
        if (period == 0 || _machines.ContainsKey(instance) || !_ownKeys.TryGetValue(period, out var keys))
        {
            return;
        }

        var previous = _ownKeys.GetValueOrDefault(period - 1)?.Signing;
        var fingerprint = TlsFingerprintOf?.Invoke(period) ?? NoTlsFingerprint.ToArray();
        var machine = new KeyTableMachine(
            instance, _parameters, Self, _network, keys, previous, fingerprint,
            server => _directory.TryGet(server, period - 1, out var k) ? k.Signing : null,
            recovering, _timeouts.KeyTable);
        StartMachine(context, machine, step);
    }

    /// <summary>Routes an authenticated message for <paramref name="instance"/> (see the remarks for buffering and drops).</summary>
    public ControllerStep Receive(ProtocolContext context, InstanceId instance, InboundMessage message)
    {
        CheckContext(context);
        ArgumentNullException.ThrowIfNull(message);
        var step = new ControllerStep();
        StartSignerOnFirstPackage(context, instance, step);
        Record(instance, message.Sender);
        if (SignInPeersSession(instance, message, step))
        {
            return step;
        }

        NoteLedgerPosition(context, instance, message.Sender, step);
        if (instance.Protocol == ProtocolKind.Ledger && instance.Sequence == 0)
        {
            if (message.Round == LedgerSyncRound)
            {
                ReceiveLedgerSync(context, message, step);
            }
            else if (message.Round == LinkRound)
            {
                ReceiveLinkMessage(message, step);
            }
            else if (message.Round == NonceRound)
            {
                ReceiveNonceMessage(context, instance, message, step);
            }
            else
            {
                ReceiveSubmission(context, message, step);
            }

            return step;
        }

        if (_machines.TryGetValue(instance, out var machine))
        {
            if (machine.IsFinished && machine is not TendermintAgreement && !IsCatchUpRequest(machine, message))
            {
                step.Drop(instance, message.Sender, "instance finished");
                return step;
            }

            Run(context, machine, step, (c, o) => machine.Receive(c, message, o));
            AfterAppSigningStep(context, instance, step);
            return step;
        }

        if (instance.Period + 1 < CurrentPeriod)
        {
            var outbox = new Outbox();
            outbox.Emit(new Alert(AlertType.Replay, message.Sender, CurrentPeriod, instance, $"message for {instance}, two or more periods old", message.Signed.ToArray()));
            step.Add(instance, outbox);
            step.Drop(instance, message.Sender, "replay of an old period");
            return step;
        }

        if (IsExpected(instance))
        {
            var buffer = _buffered.TryGetValue(instance, out var list) ? list : _buffered[instance] = [];
            if (buffer.Count < MaxBufferedPerInstance)
            {
                buffer.Add(message);
                step.Drop(instance, message.Sender, "buffered until the instance starts");
            }
            else
            {
                step.Drop(instance, message.Sender, "buffer full");
            }

            // Peers running the open ledger instance: join them (this server may have nothing to propose).
            StartLedgerIfReady(context, step);
            return step;
        }

        step.Drop(instance, message.Sender, "unknown instance");
        return step;
    }

    /// <summary>A timer of <paramref name="instance"/> fired.</summary>
    public ControllerStep Timeout(ProtocolContext context, InstanceId instance, int timerId)
    {
        CheckContext(context);
        var step = new ControllerStep();
        if (_machines.TryGetValue(instance, out var machine) && !machine.IsFinished)
        {
            Run(context, machine, step, (c, o) => machine.Timeout(c, timerId, o));
            AfterAppSigningStep(context, instance, step);
        }

        return step;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var machine in _machines.Values)
        {
            (machine as IDisposable)?.Dispose();
        }

        _machines.Clear();
        _appNonces.Dispose();
        foreach (var keys in _ownKeys.Values)
        {
            keys.Dispose();
        }

        _ownKeys.Clear();
        _shares?.Dispose();
        _shares = null;
        DisposeSigning();
        DisposeSecrets();
    }

    /// <summary>A finished refresh still answers dealing requests (catch-up, docs/PROTOCOLS.md) while it retains its dealing.</summary>
    private static bool IsCatchUpRequest(IProtocolMachine machine, InboundMessage message) =>
        machine is RefreshMachine { RetainsDealing: true } && message.Round == RefreshWire.CatchUpRound && message.Type == RefreshWire.DealingRequestType;

    private bool IsExpected(InstanceId instance)
    {
        if (instance.Period > CurrentPeriod + 1 || instance.Period + 1 < CurrentPeriod)
        {
            return false;
        }

        if (instance.Period == CurrentPeriod + 1)
        {
            return instance.Protocol != ProtocolKind.Dkg;
        }

        return instance.Protocol switch
        {
            ProtocolKind.Agreement => AgreementWiring.TryParentOf(instance, out var parent) && (_machines.ContainsKey(parent) || IsExpected(parent)),
            ProtocolKind.Refresh => instance.Period == CurrentPeriod && instance.Sequence == 0 && !_refreshStarted,
            ProtocolKind.ShareRecovery => false,
            ProtocolKind.Randomness => instance.Period == CurrentPeriod && instance.Sequence == 0,
            ProtocolKind.KeyTable => instance.Period == CurrentPeriod && instance.Sequence is 0 or PeriodCertificateMachine.CertificateSequence,
            ProtocolKind.Signing => IsExpectedSigning(instance),
            ProtocolKind.Ledger => IsExpectedLedger(instance),
            ProtocolKind.Dkg => IsExpectedAppKeyDkg(instance),
            _ => false,
        };
    }

    private void StartRefreshIfReady(ProtocolContext context, ControllerStep step)
    {
        if (_refreshStarted || _publicState is null || CurrentPeriod == 0 || _pendingRecoveries.Any(i => _machines.TryGetValue(i, out var m) && !m.IsFinished)
            || !LedgerAllowsRefresh)
        {
            return;
        }

        // Without its period key a server can neither sign complaints nor vote (as for agreement, see Propose).
        if (!_ownKeys.TryGetValue(CurrentPeriod, out var keys))
        {
            return;
        }

        _refreshStarted = true;
        _pendingRecoveries.Clear();
        var instance = new InstanceId(ProtocolKind.Refresh, CurrentPeriod, 0);
        var oldShares = _shares ?? new ShareVector(_group, Self, Enumerable.Repeat(_group.Zero, _publicState.SecretCount).ToArray());
        var (withSecrets, publicState, digest) = WithStoredSecrets(context, oldShares, _publicState, _digest);
        var faults = RefreshFaults?.Invoke(instance);
        var period = CurrentPeriod;
        var refresh = new RefreshMachine(
            instance, _parameters, Self, publicState, withSecrets, keys.Signing,
            server => _directory.TryGet(server, period, out var k) ? k.Signing : null,
            AgreementWiring.InstanceContext(instance, _network), digest, _timeouts.Refresh, faults)
        {
            LayoutMayBeStale = _refreshLayoutUncertain,
        };
        StartMachine(context, refresh, step);
    }

    private void StartMachine(ProtocolContext context, IProtocolMachine machine, ControllerStep step)
    {
        if (!_machines.TryAdd(machine.Instance, machine))
        {
            (machine as IDisposable)?.Dispose();
            return;
        }

        Run(context, machine, step, machine.Start);
        if (_buffered.Remove(machine.Instance, out var buffered))
        {
            foreach (var message in buffered)
            {
                if (machine.IsFinished && machine is not TendermintAgreement)
                {
                    break;
                }

                Run(context, machine, step, (c, o) => machine.Receive(c, message, o));
            }
        }
    }

    /// <summary>Runs one step of <paramref name="machine"/> and reacts to what it emitted.</summary>
    private void Run(ProtocolContext context, IProtocolMachine machine, ControllerStep step, Action<ProtocolContext, Outbox> action)
    {
        var outbox = new Outbox();
        action(context, outbox);
        step.Add(machine.Instance, outbox);
        foreach (var emitted in outbox.Events)
        {
            React(context, machine, emitted, step);
        }

        if (machine is NonceChannelMachine)
        {
            StartCoordinatorIfReady(context, machine.Instance.Period, step);
        }

        if (machine is KeyTableMachine table)
        {
            LearnKeysFrom(table);
        }

        if (machine.IsFinished && _pendingRecoveries.Contains(machine.Instance))
        {
            StartRefreshIfReady(context, step);
        }
    }

    private void React(ProtocolContext context, IProtocolMachine machine, ProtocolEvent emitted, ControllerStep step)
    {
        switch (emitted)
        {
            case DkgQualifiedSetProposal p:
                Propose(context, machine.Instance, p.EncodedQualifiedSet, step);
                break;
            case RefreshQualifiedSetProposal p:
                Propose(context, machine.Instance, p.EncodedSet, step);
                break;
            case RecoveryHelperSetProposal p:
                Propose(context, machine.Instance, p.EncodedSet, step);
                break;
            case KeyTableProposal p:
                Propose(context, machine.Instance, p.EncodedTable, step);
                break;
            case LedgerBatchProposal p:
                Propose(context, p.Instance, [], step);
                break;
            case AgreementDecided decided when AgreementWiring.TryParentOf(decided.Instance, out var parent) && _machines.TryGetValue(parent, out var target):
                Decide(context, target, decided.Value, step);
                break;
            case DkgCompleted completed when machine is DkgMachine appKeyDkg && completed.Instance.Sequence >= AppKeyDkgBase:
                OnAppKeyGenerated(appKeyDkg, completed, step);
                break;
            case DkgCompleted completed when machine is DkgMachine dkg && dkg.Share is { } dprfShare && completed.Instance == DprfKeyDkg:
                _dprfKey = completed;
                _dprfKeyShare = dprfShare.Value;
                _hasDprfKeyShare = true;
                break;
            case DkgCompleted completed when machine is DkgMachine dkg && dkg.Share is { } share:
                _networkKey = completed;
                _networkKeyShare = share.Value;
                _hasNetworkKeyShare = true;
                break;
            case RefreshCompleted completed when machine is RefreshMachine refresh:
                OnRefreshCompleted(context, refresh, completed, step);
                break;
            case RefreshSharesLost lost:
                if (lost.NewState is not null)
                {
                    _publicState = lost.NewState;
                }

                _shares?.Dispose();
                _shares = null;
                break;
            case ShareRecovered when machine is RecoveryMachine recovery:
                OnShareRecovered(recovery, step);
                break;
            default:
                ReactToCertificateEvent(context, machine, emitted, step);
                break;
        }
    }

    private void Propose(ProtocolContext context, InstanceId parent, byte[] value, ControllerStep step)
    {
        _latestProposal[parent] = value;
        var agreementId = AgreementWiring.AgreementFor(parent);
        if (_machines.ContainsKey(agreementId) || !_machines.TryGetValue(parent, out var parentMachine))
        {
            return;
        }

        if (!_ownKeys.TryGetValue(parent.Period, out var keys))
        {
            return;
        }

        var period = parent.Period;
        Func<int, Crypto.Signing.Ed25519PublicKey?> publicKeys = server => _directory.TryGet(server, period, out var k) ? k.Signing : null;
        if (parentMachine is LedgerMachine ledger)
        {
            if (LedgerAgreement(ledger, agreementId, keys, publicKeys, step) is { } ledgerAgreement)
            {
                StartMachine(context, ledgerAgreement, step);
            }

            return;
        }

        Func<byte[], bool> isValid = parentMachine switch
        {
            DkgMachine d => d.IsAcceptableQualifiedSet,
            RefreshMachine r => r.IsAcceptableQualifiedSet,
            RecoveryMachine r => r.IsAcceptableHelperSet,
            KeyTableMachine k => k.IsAcceptableKeyTable,
            _ => _ => false,
        };

        // A KeyTable proposal keeps improving after it is made (a late authenticated entry replaces one in the clear).
        Func<byte[]> getValue = parentMachine is KeyTableMachine table ? table.CurrentTable : () => _latestProposal[parent];
        var agreement = new TendermintAgreement(
            agreementId,
            _parameters,
            Self,
            keys.Signing,
            publicKeys,
            AgreementWiring.InstanceContext(parent, _network),
            getValue,
            isValid,
            AgreementWiring.InstanceSeed(parent),
            _timeouts.Agreement);
        StartMachine(context, agreement, step);
    }

    private void Decide(ProtocolContext context, IProtocolMachine parent, byte[] value, ControllerStep step)
    {
        switch (parent)
        {
            case DkgMachine dkg:
                Run(context, dkg, step, (c, o) => dkg.OnQualifiedSetDecided(c, value, o));
                break;
            case RefreshMachine refresh:
                Run(context, refresh, step, (c, o) => refresh.OnQualifiedSetDecided(c, value, o));
                break;
            case RecoveryMachine recovery:
                Run(context, recovery, step, (c, o) => recovery.OnHelperSetDecided(c, value, o));
                break;
            case KeyTableMachine table:
                Run(context, table, step, (c, o) => table.OnKeyTableDecided(c, value, o));
                break;
            case LedgerMachine ledger:
                Run(context, ledger, step, (_, o) => ledger.OnBatchDecided(value, o));
                if (ledger.IsFinished)
                {
                    OnLedgerDecided(context, ledger, step);
                }

                break;
        }
    }

    private void OnRefreshCompleted(ProtocolContext context, RefreshMachine refresh, RefreshCompleted completed, ControllerStep step)
    {
        var fresh = refresh.TakeNewShares();
        if (fresh is null)
        {
            return;
        }

        var outbox = new Outbox();
        var old = _shares;
        Commit(outbox, fresh, completed.NewState, completed.NewOwnDigest, refresh.Instance.Period);
        OnSecretsIncluded(outbox);
        outbox.Persist(EraseKey(refresh.SharesPersistKey), []);
        outbox.Persist(EraseKey(refresh.PublicStatePersistKey), []);
        outbox.Persist(EraseKey(refresh.DigestPersistKey), []);
        // Unresponsive: nothing at all arrived from the server for any instance of the period (refresh,
        // its agreement, recovery, KeyTable...), not merely nothing for the refresh: a server catching
        // up on a missed refresh or recovering deals late but speaks from the period start. After GST
        // every honest server's first messages of the period arrive well within the refresh's dealing
        // window; before it, silence may be the network's (docs/PROTOCOLS.md, invariant f).
        var heard = _heardFrom.GetValueOrDefault(refresh.Instance.Period) ?? [];
        foreach (var silent in _parameters.Servers.Where(s => s != Self && !heard.Contains(s) && !refresh.IsMissedRefresh))
        {
            outbox.Emit(new Alert(AlertType.Unresponsive, silent, refresh.Instance.Period, refresh.Instance, $"nothing arrived from server {silent} for any instance of period {refresh.Instance.Period} by the commit of {refresh.Instance}", []));
        }

        step.Add(refresh.Instance, outbox);
        if (!ReferenceEquals(old, fresh))
        {
            old?.Dispose();
        }

        // Earlier refreshes kept what they dealt for lagging servers (catch-up); this commit ends that.
        foreach (var earlier in _machines.Values.OfType<RefreshMachine>().Where(m => m.Instance.Period < refresh.Instance.Period))
        {
            earlier.EraseRetainedDealing();
        }

        // So does it for the own sub-shares each refresh persisted (possibly before a crash: by key).
        var eraseOwn = new Outbox();
        for (var back = 1UL; back <= 2 && back < refresh.Instance.Period; back++)
        {
            var earlier = refresh.Instance.Period - back;
            eraseOwn.Persist(EraseKey(RefreshMachine.OwnSubSharesPersistKeyOf(new InstanceId(ProtocolKind.Refresh, earlier, 0))), []);
            if (_restoredOwnSubShares.Remove(earlier, out var restored))
            {
                Array.Clear(restored);
            }
        }

        step.Add(refresh.Instance, eraseOwn);
        StartRandomness(context, refresh.Instance.Period, fresh, completed.NewState, step);
        OnPeriodCommittedForCertificate(context, refresh.Instance.Period, completed.NewState, step);
    }

    /// <summary>The randomness instance of <paramref name="period"/> (one per period, after its refresh commits).</summary>
    public static InstanceId RandomnessOf(ulong period) => new(ProtocolKind.Randomness, period, 0);

    /// <summary>
    /// Joint randomness of the period (docs/PROTOCOLS.md "Joint randomness"): once the refresh of
    /// <paramref name="period"/> committed here, evaluate the DPRF on
    /// <see cref="RandomnessMachine.PeriodMessage"/> with this server's fresh share of the DPRF key and
    /// the public shares of the new public state. Partials that arrived earlier were buffered.
    /// </summary>
    private void StartRandomness(ProtocolContext context, ulong period, ShareVector shares, RefreshPublicState state, ControllerStep step)
    {
        if (period != CurrentPeriod || state.SigningKeyCount <= DprfKeyIndex || _machines.ContainsKey(RandomnessOf(period)))
        {
            return;
        }

        var publicShares = DprfPublicShares.FromFeldmanCommitments(state.SigningKeyCommitments[DprfKeyIndex]);
        using var share = new SecretShare(_group, Self, shares[DprfKeyIndex]);
        var machine = new RandomnessMachine(RandomnessOf(period), _parameters, Self, new DistributedPrf(_group), RandomnessMachine.PeriodMessage(period), share, publicShares);
        StartMachine(context, machine, step);
    }

    private void OnShareRecovered(RecoveryMachine recovery, ControllerStep step)
    {
        var recovered = recovery.TakeRecoveredShares();
        // (Without a digest, data-key shares were accepted by t + 1 + f helpers' agreement in the machine.)
        if (recovered is null || _publicState is null)
        {
            recovered?.Dispose();
            return;
        }

        var outbox = new Outbox();
        _shares?.Dispose();
        _shares = recovered;
        outbox.Persist(SharesKey, recovered.Encode());
        outbox.Persist(EraseKey(recovery.SharesPersistKey), []);
        step.Add(recovery.Instance, outbox);
    }

    /// <summary>New shares durable first (vector, state, digest, period), then the old copies go: overwritten in place here, erased by tombstones elsewhere.</summary>
    private void Commit(Outbox outbox, ShareVector vector, RefreshPublicState state, ShareVectorDigest digest, ulong period)
    {
        outbox.Persist(SharesKey, vector.Encode());
        outbox.Persist(PublicStateKey, state.Encode());
        outbox.Persist(DigestKey, digest.Encode());
        var encodedPeriod = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(encodedPeriod, period);
        outbox.Persist(CommittedPeriodKey, encodedPeriod);
        outbox.Emit(new PeriodCommitted(period, state, digest));
        _shares = vector;
        _publicState = state;
        _digest = digest;
        CommittedPeriod = period;
    }

    /// <summary>An authenticated message of <paramref name="instance"/> arrived from <paramref name="sender"/>: it is not silent in that period.</summary>
    private void Record(InstanceId instance, int sender)
    {
        if (!_heardFrom.TryGetValue(instance.Period, out var set))
        {
            _heardFrom[instance.Period] = set = [];
        }

        set.Add(sender);
    }

    /// <summary>Keeps the current and the previous period's machines; older ones are disposed (their secrets wiped).</summary>
    private void Retire(ulong period)
    {
        foreach (var instance in _machines.Keys.Where(i => i.Period + 1 < period).ToList())
        {
            if (instance.Protocol == ProtocolKind.AppSigning)
            {
                _appSigningSessions--;
            }

            _machines.Remove(instance, out var machine);
            (machine as IDisposable)?.Dispose();
            _latestProposal.Remove(instance);
        }

        foreach (var old in _heardFrom.Keys.Where(p => p + 1 < period).ToList())
        {
            _heardFrom.Remove(old);
        }

        foreach (var instance in _buffered.Keys.Where(i => i.Period + 1 < period).ToList())
        {
            _buffered.Remove(instance);
        }

        RetireCertificates(period);
    }

    private void CheckContext(ProtocolContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (context.Self != Self)
        {
            throw new ArgumentException($"The context is server {context.Self}'s, this controller is server {Self}'s.", nameof(context));
        }
    }
}
