// References: docs/BRIEF.md section 1 (invariant 2: no two honest servers commit different results for the
// same write; invariant 6: nothing acknowledged is lost) and section 3 ("Broadcast and agreement");
// docs/PROTOCOLS.md "Application ledger".
using System.Buffers.Binary;

namespace Proactive.Protocols.Application;

/// <summary>Why a submitted request was not taken into the pending pool.</summary>
public enum SubmitOutcome
{
    /// <summary>Taken: it will be proposed (by this server or whichever server leads).</summary>
    Accepted,

    /// <summary>Already pending or applied: nothing to do (the first copy answers).</summary>
    Duplicate,

    /// <summary>Its signature does not verify under the key its handle names (or the handle names none).</summary>
    NotAuthentic,

    /// <summary>Its timestamp is outside what this period's ledger applies.</summary>
    Untimely,

    /// <summary>The pool is full: the client should retry.</summary>
    Busy,
}

/// <summary>
/// The controller's side of the applications' ledger: the agreed state, the pool of authenticated
/// requests waiting for a batch, and the ledger's position (the period whose ledger is open and the next
/// instance's sequence). Batches are decided one instance after the other by <see cref="LedgerMachine"/>s;
/// the ledger of a period is closed by a decided batch that seals it, proposed once servers are in the
/// next period.
/// </summary>
public sealed class ApplicationLedger
{
    /// <summary>
    /// The response header of a ledger operation naming the server that leads round 0 of the next ledger
    /// instance. A hint only: a client may send a copy of its next request there (it is then proposed without
    /// waiting for a forward), and still takes the answer from the server it chose.
    /// </summary>
    public const string NextProposerHeader = "Proactive-Next-Proposer";

    /// <summary>Most requests waiting for a batch.</summary>
    public const int MaxPending = 20_000;

    /// <summary>The durable key of the position: u64 open period, u64 next sequence.</summary>
    public const string PositionKey = ApplicationKeys.Prefix + "ledger/position";

    private readonly Dictionary<string, SignedRequest> _pending = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>The agreed state.</summary>
    public ApplicationState State { get; private set; } = new();

    /// <summary>The period whose ledger is open (every earlier one is sealed).</summary>
    public ulong Period { get; private set; }

    /// <summary>The sequence of the next instance of the open ledger (from 1).</summary>
    public ulong NextSequence { get; private set; } = 1;

    /// <summary>Requests waiting for a batch.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Whether the ledger of <paramref name="period"/> is sealed here.</summary>
    public bool IsSealed(ulong period) => period < Period;

    /// <summary>Restores the position from its durable encoding.</summary>
    public bool TryLoadPosition(byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length != 16)
        {
            return false;
        }

        Period = BinaryPrimitives.ReadUInt64BigEndian(value);
        NextSequence = Math.Max(1, BinaryPrimitives.ReadUInt64BigEndian(value.AsSpan(8)));
        return true;
    }

    /// <summary>Takes an authenticated request into the pool.</summary>
    public SubmitOutcome Submit(SignedRequest request, LedgerContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var id = Convert.ToHexStringLower(request.Id);
        if (_pending.ContainsKey(id) || State.WasApplied(request.Id))
        {
            return SubmitOutcome.Duplicate;
        }

        if (!context.IsTimely(request.Timestamp))
        {
            return SubmitOutcome.Untimely;
        }

        if (!State.CheckAuthentic(request, context.NetworkHex))
        {
            return SubmitOutcome.NotAuthentic;
        }

        if (_pending.Count >= MaxPending)
        {
            return SubmitOutcome.Busy;
        }

        _pending[id] = request;
        _order.Enqueue(id);
        return SubmitOutcome.Accepted;
    }

    /// <summary>What this server proposes for the open ledger's next instance: the oldest pending requests that are still valid.</summary>
    public LedgerBatch Proposal(bool seal, LedgerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var chosen = new List<SignedRequest>();
        var size = 64;
        foreach (var id in _order)
        {
            if (chosen.Count >= LedgerBatch.MaxRequests || !_pending.TryGetValue(id, out var request))
            {
                continue;
            }

            var length = request.Body.Length + 256;
            if (size + length > LedgerBatch.MaxEncodedLength)
            {
                break;
            }

            if (context.IsTimely(request.Timestamp) && !State.WasApplied(request.Id))
            {
                chosen.Add(request);
                size += length;
            }
        }

        return new LedgerBatch(Period, NextSequence, seal, chosen);
    }

    /// <summary>
    /// The validity predicate of the open instance: the batch is for it, every request is authentic,
    /// timely, applied nowhere before and listed once; it may seal only when this server has left the
    /// ledger's period (<paramref name="maySeal"/>), so no faulty leader closes a ledger early.
    /// </summary>
    public bool IsAcceptable(byte[] value, bool maySeal, LedgerContext context)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(context);
        if (!LedgerBatch.TryDecode(value, out var batch) || batch.Period != Period || batch.Sequence != NextSequence || (batch.Seals && !maySeal))
        {
            return false;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in batch.Requests)
        {
            // A request in this server's pool passed CheckAuthentic when it came in, and its id is the hash of
            // all of it, signature included: it is not verified a second time.
            var id = Convert.ToHexStringLower(request.Id);
            if (!seen.Add(id) || State.WasApplied(request.Id)
                || !context.IsTimely(request.Timestamp) || (!_pending.ContainsKey(id) && !State.CheckAuthentic(request, context.NetworkHex)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Applies the decided batch of the open instance: every request in order (the answers and the
    /// durable writes, the new position last), then moves to the next instance, or to the next period's
    /// ledger when the batch seals this one.
    /// </summary>
    public IReadOnlyList<(byte[] RequestId, ApplyResult Result)> Apply(LedgerBatch batch, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(writes);
        if (batch.Period != Period || batch.Sequence != NextSequence)
        {
            throw new InvalidOperationException($"Batch {batch.Period}/{batch.Sequence} is not the open instance {Period}/{NextSequence}.");
        }

        var results = new List<(byte[], ApplyResult)>(batch.Requests.Count);
        foreach (var request in batch.Requests)
        {
            results.Add((request.Id, State.Apply(request, context, writes)));
            var id = Convert.ToHexStringLower(request.Id);
            _pending.Remove(id);
        }

        if (batch.Seals)
        {
            Period++;
            NextSequence = 1;
            State.PruneApplied(Period, writes);
        }
        else
        {
            NextSequence++;
        }

        // Queue entries whose request left the pool (applied, or dropped below) are skipped lazily; compact now and then.
        if (_order.Count > 2 * (_pending.Count + LedgerBatch.MaxRequests))
        {
            var live = _order.Where(_pending.ContainsKey).ToList();
            _order.Clear();
            foreach (var id in live)
            {
                _order.Enqueue(id);
            }
        }

        writes.Add(new(PositionKey, EncodePosition()));
        return results;
    }

    /// <summary>
    /// Replaces the whole state and position by a copy a peer sent (the ledger's state transfer): the
    /// caller has checked the copy against f + 1 matching offers. Pending requests stay (they are judged
    /// again when proposed). Returns the durable writes: everything under the application prefix is
    /// erased first, then every record and the position written.
    /// </summary>
    public ApplicationState Replace(IEnumerable<KeyValuePair<string, byte[]>> records, ulong period, ulong nextSequence, List<KeyValuePair<string, byte[]?>> writes)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(writes);
        var fresh = new ApplicationState();
        var list = records.ToList();
        foreach (var (key, value) in list)
        {
            if (!fresh.TryLoad(key, value))
            {
                throw new InvalidOperationException($"Not an application record: {key}.");
            }
        }

        foreach (var (key, _) in State.Records())
        {
            writes.Add(new(key, null));
        }

        writes.AddRange(list.Select(r => new KeyValuePair<string, byte[]?>(r.Key, r.Value)));
        State = fresh;
        Period = period;
        NextSequence = Math.Max(1, nextSequence);
        writes.Add(new(PositionKey, EncodePosition()));
        return fresh;
    }

    /// <summary>Drops pending requests the open period's ledger can no longer apply (their timestamps are too old).</summary>
    public void DropUntimely(LedgerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var (id, request) in _pending.Where(p => !context.IsTimely(p.Value.Timestamp)).ToList())
        {
            _pending.Remove(id);
        }
    }

    private byte[] EncodePosition()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Period);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), NextSequence);
        return bytes;
    }
}
