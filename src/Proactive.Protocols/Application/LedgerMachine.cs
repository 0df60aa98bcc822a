// References: docs/PROTOCOLS.md "Application ledger"; docs/BRIEF.md section 3 ("Broadcast and agreement").
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Application;

/// <summary>
/// One instance of the applications' ledger, (Ledger, p, k) with k ≥ 1: it proposes this server's batch
/// to its agreement (the value is read when this server leads a round, so requests that arrived since
/// the start are included) and, on the decision, applies the decided batch to the ledger.
/// Instance (Ledger, p, 0) is the submission channel: servers forward the requests their clients sent
/// to every peer, so whichever server leads can propose them.
/// </summary>
public sealed class LedgerMachine : IProtocolMachine
{
    /// <summary>Round of a forwarded request on the submission channel.</summary>
    public const byte SubmitRound = 1;

    /// <summary>Type of a forwarded request.</summary>
    public const byte SubmitType = 1;

    private readonly ApplicationLedger _ledger;
    private readonly Func<bool> _maySeal;
    private readonly Func<LedgerContext> _context;
    private readonly Action<DealtShares, Outbox>? _keepShares;
    private bool _decided;

    /// <param name="instance">(Ledger, p, k), k ≥ 1.</param>
    /// <param name="ledger">The server's ledger (pool and agreed state).</param>
    /// <param name="maySeal">Whether this instance may close the period's ledger (the server is in a later period).</param>
    /// <param name="context">The period's ledger context.</param>
    /// <param name="keepShares">Keeps this server's share of a secret whose request carried its shares, in the decision's outbox (so in its durable step).</param>
    public LedgerMachine(InstanceId instance, ApplicationLedger ledger, Func<bool> maySeal, Func<LedgerContext> context, Action<DealtShares, Outbox>? keepShares = null)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(maySeal);
        ArgumentNullException.ThrowIfNull(context);
        if (instance.Protocol != Machines.ProtocolKind.Ledger || instance.Sequence == 0)
        {
            throw new ArgumentException("A ledger instance is (Ledger, p, k) with k >= 1.", nameof(instance));
        }

        Instance = instance;
        _ledger = ledger;
        _maySeal = maySeal;
        _context = context;
        _keepShares = keepShares;
    }

    public InstanceId Instance { get; }

    public bool IsFinished => _decided;

    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        outbox.Emit(new LedgerBatchProposal(Instance));
    }

    /// <summary>The batch this server would propose now (the agreement's getValue).</summary>
    public byte[] CurrentProposal() => _ledger.Proposal(_maySeal(), _context()).Encode();

    /// <summary>The agreement's validity predicate.</summary>
    public bool IsAcceptableBatch(byte[] value) => !_decided && _ledger.Period == Instance.Period && _ledger.NextSequence == Instance.Sequence && _ledger.IsAcceptable(value, _maySeal(), _context());

    /// <summary>The agreement decided <paramref name="value"/>: apply it, persist the writes, report each answer.</summary>
    public void OnBatchDecided(byte[] value, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        if (_decided || !LedgerBatch.TryDecode(value, out var batch) || batch.Period != Instance.Period || batch.Sequence != Instance.Sequence)
        {
            // The agreement only decides values its validity predicate accepted at n - f servers; a
            // decided value that is not this instance's batch means the certificate is not ours.
            return;
        }

        _decided = true;
        var writes = new List<KeyValuePair<string, byte[]?>>();
        var results = _ledger.Apply(batch, _context(), writes);
        foreach (var (key, bytes) in writes)
        {
            outbox.Persist(bytes is null ? Controller.ServerController.EraseKey(key) : key, bytes ?? []);
        }

        foreach (var (id, result) in results)
        {
            if (result.Dealt is { } dealt && _keepShares is not null)
            {
                _keepShares(dealt, outbox);
            }

            outbox.Emit(new LedgerRequestApplied(Instance, id, result));
        }

        if (batch.Seals)
        {
            outbox.Emit(new LedgerSealed(Instance, batch.Period));
        }
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        // Only the agreement speaks for a ledger instance.
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
    }
}
