// References: issue 3 items 10-12; docs/BRIEF.md section 1 (parameters, mobile adversary).
using Proactive.Crypto.Groups;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Recovery;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Signing;
using Proactive.Simulation.Adversary;
using Proactive.Simulation.Network;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Scenarios;

/// <summary>What a <see cref="ProactiveScenario"/> runs. The seed drives every random choice.</summary>
public sealed record ProactiveScenarioOptions
{
    public int Nodes { get; init; } = 5;

    public int Threshold { get; init; } = 2;

    public int Faults { get; init; } = 1;

    /// <summary>Refresh periods after period 0 (the DKG and the initial dealing).</summary>
    public int Periods { get; init; } = 5;

    /// <summary>M data secrets dealt by the client after the DKG.</summary>
    public int Secrets { get; init; } = 10;

    public ulong Seed { get; init; }

    /// <summary>Virtual length of a period.</summary>
    public TimeSpan PeriodLength { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The group of the network key and the data keys (one refresh covers them all).</summary>
    public PrimeOrderGroup Group { get; init; } = PrimeOrderGroup.Ed25519;

    /// <summary>Null: reliable links of 5-40 ms, synchronous from the start.</summary>
    public NetworkModel? Network { get; init; }

    /// <summary>
    /// The wire codec. Null (the default): the real envelope layer (<see cref="EnvelopeWireCodec"/>),
    /// each server signing, decrypting and verifying with the period keys its controller holds, openers
    /// advanced at every period start. <c>parameters =&gt; new PlainWireCodec(parameters)</c> runs
    /// unsigned frames instead (faster; the sender field is then taken on trust).
    /// </summary>
    public Func<ClusterParameters, IWireCodec>? CodecFactory { get; init; }

    /// <summary>Each period, read up to t servers and make up to f of them Byzantine with a random strategy.</summary>
    public bool MobileAdversary { get; init; }

    /// <summary>
    /// Client requests each period for the applications' ledger (an application registers in period 1,
    /// then stores this many entries per period through random honest servers); 0: no ledger traffic
    /// (the ledgers are still sealed every period).
    /// </summary>
    public int ApplicationRequests { get; init; }

    /// <summary>
    /// Signatures with an application key each period: the application registers in period 1, asks for a
    /// key in period 2, and from period 3 on asks random honest servers to coordinate this many signatures
    /// (one-round FROST with commitments made ahead); 0: none.
    /// </summary>
    public int SigningRequests { get; init; }

    /// <summary>Explicit injections (per-strategy tests), applied besides the mobile adversary.</summary>
    public IReadOnlyList<Injection> Injections { get; init; } = [];

    /// <summary>Chance per period that one honest server crashes after the commit and restarts from its disk before the next period.</summary>
    public double CrashProbability { get; init; }

    /// <summary>Once the network is synchronous, a period's refresh must commit within this (invariant e).</summary>
    public TimeSpan CommitBound { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Invariant (d): most combinations of the adversary's shares tried.</summary>
    public int MaxAdversaryCombinations { get; init; } = 200;

    /// <summary>Invariant (c): subsets of t+1 honest servers checked per period.</summary>
    public int ReconstructionSamples { get; init; } = 3;

    /// <summary>Short protocol timeouts: the simulator's network is fast, and virtual time is free but events are not.</summary>
    public ControllerTimeouts Timeouts { get; init; } = new(
        new AgreementTimeouts(TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(200)),
        new DkgOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)),
        new RefreshTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)),
        new RecoveryTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6)),
        Certificate: new PeriodCertificateTimeouts(TimeSpan.FromSeconds(4), TimeSpan.FromMilliseconds(500), new SigningTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20))));

    public long MaxEvents { get; init; } = 50_000_000;
}
