// References: issue 3 items 10-12 and Tests; docs/BRIEF.md section 1 ("What must always hold"),
// section 3 ("Initialization", "Refresh for period p"), section 5 (secrets dealt by the client);
// docs/PROTOCOLS.md "Controller and simulator".
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Randomness;
using Proactive.Protocols.Refresh;
using Proactive.Simulation.Adversary;
using Proactive.Simulation.Byzantine;
using Proactive.Simulation.Network;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Scenarios;

/// <summary>
/// A whole network's life in the simulator: period 0 runs the DKG of the network key through the
/// controllers and agreement, then the harness deals M data secrets as a client would; every period
/// p = 1..P advances the period keys, runs share recovery for servers that lost their shares, then the
/// refresh of every secret, under the network model, crashes and the (mobile) adversary, and checks
/// the invariants of BRIEF section 1 (see <see cref="Run"/>).
/// </summary>
public sealed partial class ProactiveScenario
{
    private readonly ProactiveScenarioOptions _options;
    private readonly ClusterParameters _parameters;
    private readonly PrimeOrderGroup _group;
    private readonly NetworkId _network;
    private readonly Simulator _simulator;
    private readonly Dictionary<int, ControllerHost> _hosts = [];
    private readonly Dictionary<(ulong Period, int Server), PeriodKeys> _keyring = [];
    private readonly Dictionary<int, AdversaryStrategyKind> _byzantine = [];
    private readonly Dictionary<ulong, HashSet<int>> _byzantineInPeriod = [];
    private readonly Dictionary<ulong, HashSet<int>> _crashedInPeriod = [];
    private readonly List<ExpectedAlert> _expected = [];
    private readonly List<string> _violations = [];
    private readonly Dictionary<(ulong Period, int Server), Scalar[]> _stolen = [];
    private readonly IRandomSource _harnessRandom;
    private readonly Random _adversaryChoices;
    private readonly Random _crashChoices;
    private Scalar[] _dataSecrets = [];
    private Element _networkKey;
    private Element _dprfKey;
    private int _committed;
    private bool _dkgDone;

    public ProactiveScenario(ProactiveScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _parameters = ClusterParameters.Create(options.Nodes, options.Threshold, options.Faults);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Periods);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Secrets);
        _group = options.Group;
        _harnessRandom = SimulationSeed.Source(options.Seed, "harness");
        _adversaryChoices = SimulationSeed.Integers(options.Seed, "adversary");
        _crashChoices = SimulationSeed.Integers(options.Seed, "crashes");
        var networkBytes = new byte[NetworkId.Length];
        SimulationSeed.Source(options.Seed, "network id").Fill(networkBytes);
        _network = NetworkId.FromBytes(networkBytes);
        var network = options.Network ?? new NetworkModel(new LinkBehavior(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(40)));
        // By default every message goes through the real envelope layer, with each server's controller
        // as its key source: the keys it votes with and announces in the KeyTable sign its envelopes.
        var codecFactory = options.CodecFactory
            ?? (parameters => new EnvelopeWireCodec(parameters, options.Seed, _network, _group, new ControllerKeySource(_hosts), captureEnvelopes: true));
        _simulator = new Simulator(new SimulationOptions(_parameters, options.Seed)
        {
            Network = network,
            RecordTrace = false,
            MaxEvents = options.MaxEvents,
            InstanceFactory = (server, instance) => _hosts[server].PortFor(instance),
            RestartFactory = Restart,
            CodecFactory = codecFactory,
        });
        foreach (var id in _parameters.Servers)
        {
            _hosts[id] = new ControllerHost(_simulator, id, WithSchedule(new ServerController(id, _parameters, _group, _network, options.Timeouts)));
        }
    }

    /// <summary>The simulator, for tests that look at servers, disks and events.</summary>
    public Simulator Simulator => _simulator;

    /// <summary>The alerts injections must cause (filled as the run goes).</summary>
    public IReadOnlyList<ExpectedAlert> ExpectedAlerts => _expected;

    /// <summary>Runs period 0 and periods 1..P, checking the invariants; never throws for a violation (it is in the report).</summary>
    public SimulationReport Run()
    {
        try
        {
            RunPeriodZero();
            for (var p = 1UL; p <= (ulong)_options.Periods && _dataSecrets.Length == _options.Secrets && _dkgDone; p++)
            {
                RunPeriod(p);
            }

            CheckStolenShares();
            CheckExpectedAlerts();
            CheckFalseAlerts();
        }
        catch (InvariantViolationException e)
        {
            _violations.Add(e.Message);
        }
        catch (SimulationLimitException e)
        {
            _violations.Add(e.Message);
        }

        return Report();
    }

    private TimeSpan PeriodStart(ulong period) => _options.PeriodLength * (double)period;

    private void RunPeriodZero()
    {
        InstallKeys(0);
        ApplyInjections(0);
        // Two DKGs: the network key and the DPRF key of the joint randomness (a separate key, never used to sign).
        foreach (var host in _hosts.Values)
        {
            host.Run(context => host.Controller.StartDkg(context, ServerController.NetworkKeyDkg));
            host.Run(context => host.Controller.StartDkg(context, ServerController.DprfKeyDkg));
        }

        _simulator.RunUntil(_ => Honest().All(h => h.Controller.NetworkKey is not null && h.Controller.DprfKey is not null), PeriodStart(1) - TimeSpan.FromSeconds(1));
        foreach (var (name, key) in new (string, Func<ServerController, Proactive.Protocols.Dkg.DkgCompleted?>)[] { ("network", c => c.NetworkKey), ("DPRF", c => c.DprfKey) })
        {
            var completed = Honest().Select(h => key(h.Controller)).ToList();
            if (completed.Any(c => c is null))
            {
                _violations.Add($"period 0: the DKG of the {name} key did not complete at every honest server (seed {_options.Seed})");
                return;
            }

            var keys = completed.Select(c => Convert.ToHexString(_group.EncodeElement(c!.GroupPublicKey))).Distinct().ToList();
            if (keys.Count != 1)
            {
                _violations.Add($"(b) period 0: honest servers computed {keys.Count} different {name} keys (seed {_options.Seed})");
                return;
            }
        }

        _networkKey = Honest().First().Controller.NetworkKey!.GroupPublicKey;
        _dprfKey = Honest().First().Controller.DprfKey!.GroupPublicKey;
        _dkgDone = true;

        // The client deals the data secrets with Shamir (BRIEF section 5).
        _dataSecrets = new Scalar[_options.Secrets];
        var perServer = _parameters.Servers.ToDictionary(s => s, _ => new Scalar[_options.Secrets]);
        for (var k = 0; k < _options.Secrets; k++)
        {
            _dataSecrets[k] = _group.RandomScalar(_harnessRandom);
            var (shares, polynomial) = Shamir.Split(_group, _dataSecrets[k], _parameters.Threshold, _parameters.ServerCount, _harnessRandom);
            polynomial.Dispose();
            foreach (var share in shares)
            {
                perServer[share.Index][k] = share.Value;
                share.Dispose();
            }
        }

        foreach (var host in _hosts.Values.Where(h => h.Controller.NetworkKey is not null && h.Controller.DprfKey is not null))
        {
            host.Run(context => host.Controller.ImportDataShares(context, perServer[host.Server]));
        }

        _simulator.RunUntil(PeriodStart(1) - TimeSpan.FromSeconds(1));
        CheckGroupKeys(0);
    }

    private void RunPeriod(ulong period)
    {
        var start = PeriodStart(period);
        _simulator.RunUntil(start);

        // Servers that were Byzantine in the last period are released; a down server restarts.
        foreach (var server in _byzantine.Keys.ToList())
        {
            _simulator.SetByzantine(server, null);
            _hosts[server].Controller.RefreshFaults = null;
        }

        _byzantine.Clear();
        InstallKeys(period);
        if (_simulator.Codec is EnvelopeWireCodec envelopes)
        {
            // Openers now accept periods p-1..p+1 and refuse older envelopes as stale; replay
            // strategies only need what is still inside that window.
            envelopes.AdvancePeriod(period);
            envelopes.ForgetCapturedBefore(period - EnvelopeOpener.AllowedPeriodLag);
        }

        // Each server checks its stored shares (BRIEF: at every period start); the union is the recovery list.
        var recovering = new SortedSet<int>();
        foreach (var host in _hosts.Values.Where(h => _simulator.Server(h.Server).IsUp))
        {
            var store = _simulator.Server(host.Server).Store;
            var stored = store.TryGet(ServerController.SharesKey, out var bytes) ? bytes : ReadOnlyMemory<byte>.Empty;
            var needs = false;
            host.Run(context =>
            {
                needs = host.Controller.CheckStoredShares(context, stored.Span, period, out var step);
                return step;
            });
            if (needs)
            {
                recovering.Add(host.Server);
            }
        }

        ApplyInjections(period);
        if (_options.MobileAdversary)
        {
            MoveMobileAdversary(period, _hosts.Values.Count(h => recovering.Contains(h.Server) || !h.Controller.HasShares));
        }

        // The public state a recovering server fetches (verified against the signed root) is the one of
        // the last committed period: a stale honest server (it missed a refresh) still holds an older
        // one, whose commitments no recovered share matches (n=7, t=4, f=2, seed 8, period 29).
        var latestState = Honest()
            .Where(h => h.Controller.PublicState is not null)
            .OrderByDescending(h => h.Controller.CommittedPeriod ?? 0)
            .Select(h => h.Controller.PublicState)
            .FirstOrDefault();
        // A Crash injection's server is down for the whole refresh: its crash is scheduled for now, so it must not start the period.
        var participants = _hosts.Values.Where(h => _simulator.Server(h.Server).IsUp && _byzantine.GetValueOrDefault(h.Server) != AdversaryStrategyKind.Crash).ToList();
        foreach (var host in participants)
        {
            var state = recovering.Contains(host.Server) ? latestState : null;
            host.Run(context => host.Controller.BeginPeriod(context, period, recovering, state));
        }

        SubmitApplicationRequests(period);

        // A server that missed a whole refresh has no digest of the shares it should hold, so share
        // recovery cannot check data keys for it (see docs/PROTOCOLS.md, limitations): it still deals
        // and votes, but is not expected to commit.
        var expected = participants.Where(h => !_byzantine.ContainsKey(h.Server) && !IsStale(h, period) && (h.Controller.HasShares || recovering.Contains(h.Server))).Select(h => h.Server).ToList();
        var done = _simulator.RunUntil(
            _ => expected.All(s => _hosts[s].Controller.CommittedPeriod == period || !_simulator.Server(s).IsUp),
            start + _options.PeriodLength - TimeSpan.FromSeconds(2));
        var committedAt = _simulator.Now;
        if (done && expected.Count > 0)
        {
            _committed++;
        }
        else
        {
            var missing = expected.Where(s => _hosts[s].Controller.CommittedPeriod != period).ToList();
            if (missing.Count > _parameters.ServerCount - _parameters.ReconstructionThreshold || Synchronous(start))
            {
                _violations.Add($"(e) period {period}: honest servers {string.Join(",", missing)} did not commit the refresh (seed {_options.Seed})");
            }
            else
            {
                _committed++;
            }
        }

        if (done && Synchronous(start) && committedAt - start > _options.CommitBound)
        {
            _violations.Add($"(e) period {period}: the refresh took {committedAt - start} > {_options.CommitBound} after GST (seed {_options.Seed})");
        }

        _simulator.RunUntil(start + _options.PeriodLength - TimeSpan.FromSeconds(1));
        CheckGroupKeys(period);
        CheckAgreementAndRefreshConsistency(period);
        CheckReconstruction(period);
        CheckRandomness(period);
        CheckKeyTable(period);
        CheckPeriodCertificate(period);
        CheckLedger(period, Synchronous(start));
        CheckSignatures(period, Synchronous(start));
        if (_options.MobileAdversary)
        {
            ReadServers(period);
        }

        MaybeCrashAndRestart(period);
    }

    /// <summary>Missed a refresh it cannot apply (two or more, or one it took part in and lost): see docs/PROTOCOLS.md, limitations.</summary>
    private static bool IsStale(ControllerHost host, ulong period) =>
        host.Controller.CommittedPeriod is not { } committed || (committed + 1 < period && host.Controller.MissedRefreshApplied != period - 1);

    private bool Synchronous(TimeSpan periodStart) =>
        periodStart >= _simulator.Network.GlobalStabilizationTime
        || (_simulator.Network.GlobalStabilizationTime == TimeSpan.MaxValue && _simulator.Network.DefaultLink.LossProbability == 0 && _simulator.Network.Partitions.Count == 0);

    private IEnumerable<ControllerHost> Honest() =>
        _hosts.Values.Where(h => !_byzantine.ContainsKey(h.Server) && _simulator.Server(h.Server).IsUp);

    private void InstallKeys(ulong period)
    {
        foreach (var server in _parameters.Servers)
        {
            _keyring[(period, server)] = PeriodKeys.Generate(server, period, SimulationSeed.Source(_options.Seed, $"period keys {period} {server}"));
        }

        foreach (var key in _keyring.Keys.Where(k => k.Period + 2 < period).ToList())
        {
            _keyring.Remove(key, out var old);
            old!.Dispose();
        }

        foreach (var host in _hosts.Values.Where(h => _simulator.Server(h.Server).IsUp))
        {
            Install(host, period);
        }
    }

    private void Install(ControllerHost host, ulong period)
    {
        var everyone = _parameters.Servers.Select(s => _keyring[(period, s)].PublicKeys).ToList();
        var own = _keyring[(period, host.Server)];
        host.Controller.InstallPeriodKeys(PeriodKeys.FromKeys(host.Server, period, CopyOf(own.Signing), CopyOf(own.Encryption)), everyone);
    }

    private static Proactive.Crypto.Signing.Ed25519PrivateKey CopyOf(Proactive.Crypto.Signing.Ed25519PrivateKey key)
    {
        Span<byte> seed = stackalloc byte[Proactive.Crypto.Signing.Ed25519PrivateKey.SeedLength];
        key.WriteSeedTo(seed);
        var copy = Proactive.Crypto.Signing.Ed25519PrivateKey.FromSeed(seed);
        seed.Clear();
        return copy;
    }

    /// <summary>The controller owns (and erases) what it is given, so it gets its own copy of the HPKE key too.</summary>
    private static HpkePrivateKey CopyOf(HpkePrivateKey key)
    {
        Span<byte> secret = stackalloc byte[HpkeSuite.PrivateKeyLength];
        try
        {
            key.WriteTo(secret);
            return HpkePrivateKey.TryImport(secret, out var copy) ? copy : throw new InvalidOperationException("An HPKE key did not re-import.");
        }
        finally
        {
            secret.Clear();
        }
    }

    private IEnumerable<OutgoingMessage> SentInPeriod(int server, ulong period) =>
        _hosts[server].Sent.Where(p => p.Key.Period == period).OrderBy(p => (p.Key.Protocol, p.Key.Sequence)).SelectMany(p => p.Value.Select(m => new OutgoingMessage(p.Key, m)));

    private void ApplyInjections(ulong period)
    {
        foreach (var injection in _options.Injections.Where(i => i.Period == period))
        {
            Inject(injection);
        }
    }

    /// <summary>
    /// Up to f Byzantine servers, but never so many that fewer than t+1 honest servers hold shares: a
    /// server being recovered this period (its shares destroyed while it was Byzantine, or lost) holds
    /// none until recovered, nor does a stale one (see <see cref="IsStale"/>), so it is faulty too for
    /// the rule t+1 &lt;= n - faulty (BRIEF section 1).
    /// Beyond that bound neither recovery (it needs t+1 honest helpers) nor invariant (c) is possible
    /// for any protocol; docs/PROTOCOLS.md "Controller and simulator".
    /// </summary>
    private void MoveMobileAdversary(ulong period, int sharelessCount)
    {
        var candidates = _parameters.Servers.Where(s => !_byzantine.ContainsKey(s) && _simulator.Server(s).IsUp).ToList();
        var budget = Math.Min(_parameters.Faults, _parameters.ServerCount - _parameters.ReconstructionThreshold - sharelessCount);
        var count = Math.Min(_adversaryChoices.Next(0, _parameters.Faults + 1), budget) - _byzantine.Count;
        for (var i = 0; i < count && candidates.Count > 0; i++)
        {
            var server = candidates[_adversaryChoices.Next(candidates.Count)];
            candidates.Remove(server);
            var strategy = AdversaryCatalogue.Mobile[_adversaryChoices.Next(AdversaryCatalogue.Mobile.Count)];
            var others = _parameters.Servers.Where(s => s != server).ToList();
            Inject(new Injection(period, server, strategy, others[_adversaryChoices.Next(others.Count)]));
        }
    }

    /// <summary>Makes the server Byzantine for this period with the injection's strategy and records the alert it must cause.</summary>
    private void Inject(Injection injection)
    {
        var server = injection.Server;
        if (_byzantine.ContainsKey(server) || _byzantine.Count >= _parameters.Faults || !_simulator.Server(server).IsUp)
        {
            return;
        }

        _byzantine[server] = injection.Strategy;
        var period = injection.Period;
        MarkIn(_byzantineInPeriod, period, server);
        ByzantineStrategy? strategy = injection.Strategy switch
        {
            AdversaryStrategyKind.Silent => new SilentStrategy(),
            AdversaryStrategyKind.Equivocation => new EquivocationStrategy(period),
            AdversaryStrategyKind.InvalidProof => new InvalidProofStrategy(_group),
            AdversaryStrategyKind.Replay => _simulator.Codec is EnvelopeWireCodec { CaptureEnvelopes: true } envelopes
                ? new EnvelopeReplayStrategy(EnvelopeReplayStrategy.SeenBy(server, envelopes.Captured, period - 1))
                : new ReplayStrategy(period >= 2 ? SentInPeriod(server, period - 2).ToList() : []),
            AdversaryStrategyKind.ConflictingVotes => new ConflictingVotesStrategy(period, CopyOf(_keyring[(period, server)].Signing), _network),
            AdversaryStrategyKind.CorruptOwnShares => new CorruptOwnSharesStrategy(_group),
            AdversaryStrategyKind.SelectiveComplaint => new SelectiveComplaintStrategy(period, _group, CopyOf(_keyring[(period, server)].Signing), _network, injection.Target),
            _ => null,
        };
        if (AdversaryCatalogue.RefreshFaultsFor(injection) is { } faults)
        {
            _hosts[server].Controller.RefreshFaults = instance => instance.Period == period ? faults : null;
            strategy = new PassThroughStrategy();
        }

        if (injection.Strategy is AdversaryStrategyKind.Crash or AdversaryStrategyKind.CrashAfterDealing)
        {
            _simulator.ScheduleCrash(server, _simulator.Now);
            _simulator.ScheduleRestart(server, PeriodStart(period) + _options.PeriodLength - TimeSpan.FromSeconds(3));
            strategy = new PassThroughStrategy();
        }

        _simulator.SetByzantine(server, strategy);
        if (AdversaryCatalogue.ExpectedFor(injection) is { } expected)
        {
            _expected.Add(expected);
        }
    }

    /// <summary>The ledger's period schedule in the simulation: period p starts at p minutes (unix milliseconds), so every period's ledger is sealed before its refresh.</summary>
    private static ServerController WithSchedule(ServerController controller)
    {
        controller.PeriodSchedule = period => (period * SimulatedPeriodMilliseconds, SimulatedPeriodMilliseconds);
        return controller;
    }

    /// <summary>The length of a period on the ledger's clock in the simulation.</summary>
    public const ulong SimulatedPeriodMilliseconds = 60_000;

    private IEnumerable<IProtocolMachine> Restart(RestartContext context)
    {
        var host = _hosts[context.Server];
        host.Controller.Dispose();
        host.Controller = WithSchedule(ServerController.Restore(context.Server, _parameters, _group, _network, _options.Timeouts, context.Store));
        var period = host.Controller.CurrentPeriod;
        foreach (var p in _keyring.Keys.Where(k => k.Server == context.Server).Select(k => k.Period).Where(p => p + 1 >= period).Order())
        {
            Install(host, p);
        }

        return [];
    }

    private void MaybeCrashAndRestart(ulong period)
    {
        if (_options.CrashProbability <= 0 || _crashChoices.NextDouble() >= _options.CrashProbability)
        {
            return;
        }

        var candidates = Honest().Select(h => h.Server).ToList();
        if (candidates.Count == 0)
        {
            return;
        }

        var server = candidates[_crashChoices.Next(candidates.Count)];
        var crashAt = _simulator.Now + TimeSpan.FromMilliseconds(100);
        MarkIn(_crashedInPeriod, period, server);
        _simulator.ScheduleCrash(server, crashAt);
        _simulator.ScheduleRestart(server, crashAt + TimeSpan.FromMilliseconds(500));
    }

    /// <summary>Invariant (a): the network key and every signing-key C_0 never change.</summary>
    private void CheckGroupKeys(ulong period)
    {
        foreach (var host in Honest())
        {
            if (host.Controller.PublicState is { } state && (state.SigningKeyCount == 0 || !state.SigningKeyCommitments[0].ConstantTerm.Equals(_networkKey)))
            {
                _violations.Add($"(a) period {period}: server {host.Server}'s network key C_0 changed (seed {_options.Seed})");
            }

            if (host.Controller.PublicState is { } withDprf && (withDprf.SigningKeyCount <= ServerController.DprfKeyIndex || !withDprf.SigningKeyCommitments[ServerController.DprfKeyIndex].ConstantTerm.Equals(_dprfKey)))
            {
                _violations.Add($"(a) period {period}: server {host.Server}'s DPRF key C_0 changed (seed {_options.Seed})");
            }
        }
    }

    /// <summary>Invariant (b): every agreement instance decided one value, every refresh one public state, among honest servers.</summary>
    private void CheckAgreementAndRefreshConsistency(ulong period)
    {
        var decided = new Dictionary<InstanceId, string>();
        var states = new Dictionary<InstanceId, string>();
        foreach (var server in _simulator.Servers.Where(s => !_byzantine.ContainsKey(s.Id)))
        {
            foreach (var emitted in server.Events.Where(e => e.Instance.Period == period))
            {
                switch (emitted.Event)
                {
                    case AgreementDecided d:
                        Compare(decided, d.Instance, Convert.ToHexString(d.Value), server.Id, "decided");
                        break;
                    case RefreshCompleted c:
                        Compare(states, c.Instance, Convert.ToHexString(c.NewState.Encode()), server.Id, "refresh public state");
                        break;
                }
            }
        }

        void Compare(Dictionary<InstanceId, string> seen, InstanceId instance, string value, int server, string what)
        {
            if (seen.TryGetValue(instance, out var first) && first != value)
            {
                _violations.Add($"(b) period {period}: server {server} committed a different {what} for {instance} (seed {_options.Seed})");
            }

            seen.TryAdd(instance, value);
        }
    }

    /// <summary>Invariant (c): sampled sets of t+1 honest servers that committed reconstruct every secret.</summary>
    private void CheckReconstruction(ulong period)
    {
        var holders = Honest().Where(h => h.Controller.CommittedPeriod == period && h.Controller.CurrentShares is not null).ToList();
        if (holders.Count < _parameters.ReconstructionThreshold)
        {
            _violations.Add($"(c) period {period}: only {holders.Count} honest servers hold committed shares (seed {_options.Seed})");
            return;
        }

        for (var sample = 0; sample < _options.ReconstructionSamples; sample++)
        {
            var subset = holders.OrderBy(_ => _crashChoices.Next()).Take(_parameters.ReconstructionThreshold).ToList();
            var xs = subset.Select(h => _group.FromUInt64((ulong)h.Server)).ToArray();
            var lambdas = Lagrange.Coefficients(_group, xs, _group.Zero);
            var values = subset.Select(h => h.Controller.CurrentShares!.Values.ToArray()).ToList();
            var state = subset[0].Controller.PublicState!;
            for (var k = 0; k < state.SigningKeyCount + _dataSecrets.Length; k++)
            {
                var secret = Interpolate(lambdas, values, k);
                var ok = IsSecret(k, secret, state);
                if (!ok)
                {
                    _violations.Add($"(c) period {period}: servers {string.Join(",", subset.Select(h => h.Server))} do not reconstruct secret {k} (seed {_options.Seed})");
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="secret"/> is secret k of the vector: the network key, the DPRF key
    /// (<see cref="ServerController.DprfKeyIndex"/>) and the applications' keys by their public key (the
    /// application keys' as the network agreed them), then the data secrets the scenario imported.
    /// </summary>
    private bool IsSecret(int k, Scalar secret, RefreshPublicState state) => k switch
    {
        0 => _group.MultiplyBase(secret).Equals(_networkKey),
        ServerController.DprfKeyIndex => _group.MultiplyBase(secret).Equals(_dprfKey),
        _ when k < state.SigningKeyCount => _group.MultiplyBase(secret).Equals(state.SigningKeyCommitments[k].ConstantTerm),
        _ => secret.Equals(_dataSecrets[k - state.SigningKeyCount]),
    };

    /// <summary>
    /// Joint randomness: every honest server that produced the randomness of <paramref name="period"/>
    /// got the same value, each output verifies publicly (<see cref="DistributedPrf.VerifyOutput"/>)
    /// against the period's public shares of the DPRF key, and every honest server that committed the
    /// period produced it.
    /// </summary>
    private void CheckRandomness(ulong period)
    {
        var instance = ServerController.RandomnessOf(period);
        var committed = Honest().Where(h => h.Controller.CommittedPeriod == period && h.Controller.PublicState is not null).ToList();
        if (committed.Count == 0)
        {
            return;
        }

        var state = committed[0].Controller.PublicState!;
        var publicShares = DprfPublicShares.FromFeldmanCommitments(state.SigningKeyCommitments[ServerController.DprfKeyIndex]);
        var prf = new DistributedPrf(_group);
        var message = RandomnessMachine.PeriodMessage(period);
        string? first = null;
        var produced = new HashSet<int>();
        foreach (var host in Honest())
        {
            foreach (var output in _simulator.Server(host.Server).Events.Select(e => e.Event).OfType<RandomnessProduced>().Where(r => r.Instance == instance))
            {
                produced.Add(host.Server);
                var value = Convert.ToHexString(output.Value);
                first ??= value;
                if (value != first)
                {
                    _violations.Add($"(g) period {period}: server {host.Server} produced a different joint random value (seed {_options.Seed})");
                }

                if (!output.Message.AsSpan().SequenceEqual(message) || !DprfOutput.TryDecode(_group, output.EncodedOutput, out var decoded)
                    || !prf.VerifyOutput(publicShares, message, decoded) || !decoded.Value.SequenceEqual(output.Value.AsSpan()))
                {
                    _violations.Add($"(g) period {period}: server {host.Server}'s joint random value does not verify publicly (seed {_options.Seed})");
                }
            }
        }

        foreach (var host in committed.Where(h => !produced.Contains(h.Server)))
        {
            _violations.Add($"(g) period {period}: honest server {host.Server} committed the refresh but produced no joint random value (seed {_options.Seed})");
        }
    }

    /// <summary>
    /// KeyTable (toolkit Table 1): the honest servers that decided the KeyTable of <paramref name="period"/>
    /// decided the same table, every honest server that committed the period decided it, and every
    /// entry in it is exactly the period keys the harness installed for that server (the harness stands
    /// in for the key directory; the decided table is the authority it must match).
    /// </summary>
    private void CheckKeyTable(ulong period)
    {
        var instance = ServerController.KeyTableOf(period);
        string? first = null;
        var decided = new HashSet<int>();
        foreach (var host in Honest())
        {
            foreach (var table in _simulator.Server(host.Server).Events.Select(e => e.Event).OfType<KeyTableDecided>().Where(d => d.Instance == instance))
            {
                decided.Add(host.Server);
                var encoded = Convert.ToHexString(table.EncodedTable);
                first ??= encoded;
                if (encoded != first)
                {
                    _violations.Add($"(h) period {period}: server {host.Server} decided a different KeyTable (seed {_options.Seed})");
                }

                if (!KeyTableDocument.TryDecode(table.EncodedTable, _parameters.ServerCount, out var document) || document.Period != period)
                {
                    _violations.Add($"(h) period {period}: server {host.Server}'s decided KeyTable does not decode (seed {_options.Seed})");
                    continue;
                }

                foreach (var entry in document.Entries.Where(e => !_keyring.TryGetValue((period, e.ServerId), out var installed) || !installed.PublicKeys.Equals(e.Entry.Keys)))
                {
                    _violations.Add($"(h) period {period}: the decided KeyTable lists keys for server {entry.ServerId} that are not the ones it uses (seed {_options.Seed})");
                }
            }
        }

        foreach (var host in Honest().Where(h => h.Controller.CommittedPeriod == period && !decided.Contains(h.Server)))
        {
            _violations.Add($"(h) period {period}: honest server {host.Server} committed the refresh but decided no KeyTable (seed {_options.Seed})");
        }
    }

    /// <summary>
    /// Period certificate (toolkit Table 1 steps 4-5): every honest server that committed
    /// <paramref name="period"/> holds a certificate of it that verifies with the network key, all of
    /// them the same bytes, certifying the decided KeyTable and the hash of the server's committed public
    /// state (invariant (b) makes that state the same everywhere).
    /// </summary>
    private void CheckPeriodCertificate(ulong period)
    {
        var decided = Honest()
            .SelectMany(h => _simulator.Server(h.Server).Events.Select(e => e.Event).OfType<KeyTableDecided>())
            .FirstOrDefault(d => d.Instance == ServerController.KeyTableOf(period));
        var networkKey = new GroupPublicKey(Ciphersuite.FromGroupId(_group.Id), _networkKey);
        string? first = null;
        foreach (var host in Honest().Where(h => h.Controller.CommittedPeriod == period && h.Controller.PublicState is not null))
        {
            if (host.Controller.CertificateOf(period) is not { } certificate)
            {
                _violations.Add($"(i) period {period}: honest server {host.Server} committed the period but holds no period certificate (seed {_options.Seed})");
                continue;
            }

            var encoded = Convert.ToHexString(certificate.Encode());
            first ??= encoded;
            if (encoded != first)
            {
                _violations.Add($"(i) period {period}: server {host.Server} holds a different period certificate (seed {_options.Seed})");
            }

            if (!certificate.Verify(networkKey) || decided is null
                || !certificate.Certifies(period, decided.EncodedTable, PeriodCertificate.HashPublicState(host.Controller.PublicState!)))
            {
                _violations.Add($"(i) period {period}: server {host.Server}'s period certificate does not verify with the network key or certifies another table or public state (seed {_options.Seed})");
            }
        }
    }

    private Scalar Interpolate(Scalar[] lambdas, List<Scalar[]> values, int secret)
    {
        var sum = _group.Zero;
        for (var i = 0; i < lambdas.Length; i++)
        {
            sum = _group.Add(sum, _group.Multiply(lambdas[i], values[i][secret]));
        }

        return sum;
    }

    /// <summary>The mobile adversary reads up to t servers this period (its Byzantine ones first) and keeps every share.</summary>
    private void ReadServers(ulong period)
    {
        var read = _byzantine.Keys.ToList();
        var others = _parameters.Servers.Where(s => !read.Contains(s)).OrderBy(_ => _adversaryChoices.Next()).ToList();
        var extra = _adversaryChoices.Next(0, _parameters.Threshold - read.Count + 1);
        read.AddRange(others.Take(extra));
        foreach (var server in read)
        {
            if (_hosts[server].Controller.CurrentShares is { } shares && _hosts[server].Controller.CommittedPeriod is { } committed)
            {
                _stolen[(committed, server)] = shares.Values.ToArray();
            }
        }
    }

    /// <summary>Invariant (d): no t+1 stolen shares at distinct servers, not all of one period, reconstruct any secret.</summary>
    private void CheckStolenShares()
    {
        var entries = _stolen.Keys.OrderBy(k => k).ToList();
        var t1 = _parameters.ReconstructionThreshold;
        if (entries.Select(e => e.Server).Distinct().Count() < t1)
        {
            return;
        }

        var random = SimulationSeed.Integers(_options.Seed, "stolen combinations");
        var tried = new HashSet<string>();
        for (var attempt = 0; attempt < _options.MaxAdversaryCombinations * 5 && tried.Count < _options.MaxAdversaryCombinations; attempt++)
        {
            var pick = new List<(ulong Period, int Server)>();
            foreach (var entry in entries.OrderBy(_ => random.Next()))
            {
                if (pick.All(p => p.Server != entry.Server))
                {
                    pick.Add(entry);
                }

                if (pick.Count == t1)
                {
                    break;
                }
            }

            if (pick.Count < t1 || pick.Select(p => p.Period).Distinct().Count() == 1 || !tried.Add(string.Join(";", pick.OrderBy(p => p))))
            {
                continue;
            }

            var xs = pick.Select(p => _group.FromUInt64((ulong)p.Server)).ToArray();
            var lambdas = Lagrange.Coefficients(_group, xs, _group.Zero);
            var values = pick.Select(p => _stolen[p]).ToList();
            if (Honest().Select(h => h.Controller.PublicState).FirstOrDefault(s => s is not null) is not { } state)
            {
                continue;
            }

            var count = Math.Min(values.Min(v => v.Length), state.SigningKeyCount + _dataSecrets.Length);
            for (var k = 0; k < count; k++)
            {
                var secret = Interpolate(lambdas, values, k);
                if (IsSecret(k, secret, state))
                {
                    _violations.Add($"(d) shares stolen in periods {string.Join(",", pick.Select(p => $"{p.Server}@p{p.Period}"))} reconstruct secret {k} (seed {_options.Seed})");
                }
            }
        }
    }

    /// <summary>Invariant (f): every injected misbehaviour was reported, with the right type and culprit, by an honest server.</summary>
    private void CheckExpectedAlerts()
    {
        var alerts = AllAlerts().ToList();
        foreach (var expected in _expected.Where(e => e.Period <= (ulong)_options.Periods))
        {
            var found = alerts.Any(a => a.Alert.Type == expected.Type && a.Alert.Culprit == expected.Culprit
                && a.Alert.Period >= expected.Period && a.Alert.Period <= expected.Period + 1
                && (a.Server != expected.Culprit || expected.Type == AlertType.CorruptedShares));
            if (!found)
            {
                _violations.Add($"(f) period {expected.Period}: {expected.Strategy} by server {expected.Culprit} raised no {expected.Type} alert naming it (seed {_options.Seed})");
            }
        }
    }

    /// <summary>
    /// Invariant (f), the other way: once the network is calm (after GST, no partition), no alert an
    /// honest server raises names an honest server. Legitimately named: nobody (culprit 0); a server
    /// Byzantine in the period the alert is raised in or the one before (late detections: a
    /// CorruptOwnShares server finds its own damage at the next period start, a replay is refused
    /// after the period turned); a server the harness crashed in that period or the one before, for
    /// Unresponsive only; the raiser itself for CorruptedShares (a self-report accuses nobody: a
    /// server that missed refreshes drops its stale shares). Anything else is a false alert.
    /// </summary>
    private void CheckFalseAlerts()
    {
        foreach (var server in _simulator.Servers)
        {
            foreach (var emitted in server.Events.Where(e => e.Event is Alert))
            {
                var alert = (Alert)emitted.Event;
                var period = PeriodOf(emitted.Time);
                if (WasByzantine(server.Id, period) || !Calm(period) || IsJustified(server.Id, period, alert))
                {
                    continue;
                }

                _violations.Add($"(f) false alert: period {period}: honest server {server.Id} raised {alert.Type} naming honest server {alert.Culprit} ({alert.Detail}) (seed {_options.Seed})");
            }
        }
    }

    private bool IsJustified(int raiser, ulong period, Alert alert) => alert.Type switch
    {
        _ when alert.Culprit == 0 => true,
        AlertType.CorruptedShares when alert.Culprit == raiser => true,
        // Silence is judged in the refresh of the alert's period: only a server faulty (Byzantine,
        // or crashed by the harness) in that very period may be named, not one that is catching up.
        AlertType.Unresponsive => WasByzantine(alert.Culprit, alert.Period) || InSet(_crashedInPeriod, alert.Period, alert.Culprit),
        _ => WasByzantine(alert.Culprit, period) || (period > 0 && WasByzantine(alert.Culprit, period - 1)),
    };

    private bool WasByzantine(int server, ulong period) => InSet(_byzantineInPeriod, period, server);

    private static bool InSet(Dictionary<ulong, HashSet<int>> sets, ulong period, int server) =>
        sets.TryGetValue(period, out var set) && set.Contains(server);

    private static void MarkIn(Dictionary<ulong, HashSet<int>> sets, ulong period, int server)
    {
        if (!sets.TryGetValue(period, out var set))
        {
            sets[period] = set = [];
        }

        set.Add(server);
    }

    /// <summary>The period the harness was in at <paramref name="time"/>.</summary>
    private ulong PeriodOf(TimeSpan time) => (ulong)(time.Ticks / _options.PeriodLength.Ticks);

    /// <summary>After GST and no partition during the period or the one before it (whose late messages it may judge).</summary>
    private bool Calm(ulong period)
    {
        var from = period == 0 ? TimeSpan.Zero : PeriodStart(period - 1);
        var until = PeriodStart(period + 1);
        return Synchronous(PeriodStart(period)) && !_simulator.Network.Partitions.Any(p => p.From < until && p.Until > from);
    }

    /// <summary>Every alert any server emitted, with the server that raised it.</summary>
    public IEnumerable<(int Server, Alert Alert)> AllAlerts() =>
        _simulator.Servers.SelectMany(s => s.Events.Select(e => e.Event).OfType<Alert>().Select(a => (s.Id, a)));

    private SimulationReport Report()
    {
        var alerts = AllAlerts().Select(a => a.Alert).ToList();
        return new SimulationReport(
            _options.Seed,
            _options.Periods,
            _committed,
            _simulator.Trace.Traffic,
            alerts.GroupBy(a => a.Type.ToString()).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            alerts.GroupBy(a => a.Culprit).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            _violations.ToList(),
            _simulator.Now);
    }
}

/// <summary>A Byzantine server whose deviation lives inside its machines (refresh dealer faults) or in the scenario (crash).</summary>
internal sealed class PassThroughStrategy : ByzantineStrategy;
