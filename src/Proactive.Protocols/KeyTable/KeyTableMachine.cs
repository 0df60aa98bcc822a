// References: toolkit paper (seed 001) section 4.1 and Table 1 ("Refresh Protocol for period t"):
// steps 1-3 (new keys, K_i broadcast signed with S_i(t-1) when available), remark 1 (the judging
// rules [i]-[iii] for authenticated and in-the-clear K_i), steps 4-5 and remark 3 (S_cert(KeyTable);
// each server checks that K_i is in the signed table, else alert); docs/BRIEF.md section 3
// "Broadcast and agreement" and "Refresh for period p"; docs/PROTOCOLS.md "KeyTable" (why the
// validity predicate is what it is).
using System.Buffers;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.KeyTable;

/// <summary>Where a KeyTable instance is. Transitions: see <see cref="KeyTableMachine.ValidTransitions"/>.</summary>
public enum KeyTableStatus
{
    /// <summary>Constructed; <see cref="KeyTableMachine.Start"/> not yet called (entries are already judged).</summary>
    Created,

    /// <summary>K_i broadcast; judging the others' entries until every server is settled or the deadline.</summary>
    Collecting,

    /// <summary><see cref="KeyTableProposal"/> emitted; waiting for agreement (late entries still count).</summary>
    Proposed,

    /// <summary>Final: a table was decided, checked for K_i, and <see cref="KeyTableDecided"/> emitted.</summary>
    Decided,
}

/// <summary>Progress deadlines (never safety).</summary>
/// <param name="JudgingWindow">
/// From Start until an entry in the clear is accepted for a server not known to be recovering
/// (Table 1, remark 1: its authenticated entry had that long to arrive) and the proposal is made.
/// </param>
public sealed record KeyTableTimeouts(TimeSpan JudgingWindow)
{
    /// <summary>Defaults for the local cluster (periods of 30 s).</summary>
    public static KeyTableTimeouts Default { get; } = new(TimeSpan.FromSeconds(3));
}

/// <summary>Message kinds of the KeyTable protocol (round, type on the envelope).</summary>
public static class KeyTableWire
{
    /// <summary>The only round: entry broadcast.</summary>
    public const byte EntryRound = 0;

    /// <summary>A <see cref="SignedKeyTableEntry"/>.</summary>
    public const byte EntryType = 1;
}

/// <summary>
/// The KeyTable of period p (toolkit Table 1, steps 1-5) as a state machine: every server broadcasts
/// its signed K_i, judges the entries it receives by the paper's rules, proposes the table of the
/// entries it accepts, and, once agreement has decided a table, checks that its own K_i is in it.
/// </summary>
/// <remarks>
/// <para><b>Judging (Table 1, remark 1).</b> An entry is judged by the server it names, not by who
/// delivered it (a recovering server's entry is unauthenticated anyway). Per server j:
/// [i] two different entries signed with j's valid previous key V_j(p-1) prove that j equivocated:
/// <see cref="AlertType.Equivocation"/> naming j with both entries as evidence, and j is left out;
/// [ii] one entry signed with V_j(p-1) is accepted, whatever arrived in the clear before or after (the
/// first one wins; an identical copy is ignored); [iii] two different entries in the clear (and none
/// authenticated) are both discarded, with an alert that blames nobody (anyone can make such an entry).
/// A single entry in the clear is accepted at once when j is in the set of servers this server
/// believes are recovering, otherwise only when the judging window has passed with no authenticated
/// entry for j. An entry whose previous-key signature cannot be checked here (V_j(p-1) unknown, e.g.
/// at a recovering server that has not restored the previous table) counts as sent in the clear.</para>
/// <para><b>Validity (<see cref="IsAcceptableKeyTable"/>)</b> accepts a table that is well formed, of
/// period p, lists at least n - f servers, whose every entry is correctly self-signed (and correctly
/// signed with V_j(p-1) when it claims so and V_j(p-1) is known), and that is compatible with this
/// server's judgment: its own entry, if listed, is exactly its K_i; an entry in the clear for j does
/// not contradict an authenticated entry of j held here, and is for a server believed recovering or
/// comes after the judging window. Everything else is deliberately accepted, for liveness: an entry
/// authenticated with V_j(p-1) is accepted even if it differs from the one held here (j signed both,
/// so j is faulty and nobody honest is impersonated; refusing would let a faulty j split the voters),
/// and missing servers are accepted (the proposer may not have their entries yet; a server left out
/// detects it at the decision). See docs/PROTOCOLS.md "KeyTable" for the argument and its limits.</para>
/// <para><b>Decision (Table 1, remark 3).</b> <see cref="OnKeyTableDecided"/> checks that this
/// server's own K_i is in the decided table byte for byte, else
/// <see cref="AlertType.ImpersonationDetected"/>; then it emits <see cref="KeyTableDecided"/> for the
/// driver to have the period root threshold-signed (<see cref="PeriodCertificate"/>).</para>
/// <para><b>Durability.</b> Start persists the own signed entry (<see cref="OwnEntryPersistKey"/>)
/// before it is broadcast. The driver must have made the period keys durable before Start and, after
/// a restart, rebuild the machine with the same keys: fresh keys would be a second, different
/// authenticated K_i, which peers rightly report as equivocation. The machine holds no secret: the
/// keys sign K_i in the constructor and are not kept.</para>
/// </remarks>
public sealed class KeyTableMachine : IProtocolMachine
{
    /// <summary>Timer: the judging window is over.</summary>
    public const int JudgingDeadlineTimer = 1;

    /// <summary>The transitions this machine makes; anything else is a bug.</summary>
    public static readonly IReadOnlyDictionary<KeyTableStatus, KeyTableStatus[]> ValidTransitions = new Dictionary<KeyTableStatus, KeyTableStatus[]>
    {
        [KeyTableStatus.Created] = [KeyTableStatus.Collecting, KeyTableStatus.Decided],
        [KeyTableStatus.Collecting] = [KeyTableStatus.Proposed, KeyTableStatus.Decided],
        [KeyTableStatus.Proposed] = [KeyTableStatus.Decided],
        [KeyTableStatus.Decided] = [],
    };

    private readonly ClusterParameters _parameters;
    private readonly int _self;
    private readonly NetworkId _network;
    private readonly Func<int, Ed25519PublicKey?> _previousSigningKeys;
    private readonly HashSet<int> _recovering;
    private readonly KeyTableTimeouts _timeouts;
    private readonly ServerView[] _views;
    private bool _judgingWindowOver;

    /// <summary>
    /// The KeyTable instance of server <paramref name="self"/> for period p = <c>instance.Period</c>.
    /// </summary>
    /// <param name="instance">A <see cref="ProtocolKind.KeyTable"/> instance.</param>
    /// <param name="parameters">n, t, f.</param>
    /// <param name="self">This server, 1..n.</param>
    /// <param name="network">The network the entries are signed for.</param>
    /// <param name="newKeys">(S_i(p), V_i(p)) and (E_i(p), D_i(p)); borrowed to sign K_i, not kept.</param>
    /// <param name="previousSigningKey">S_i(p-1), or null when this server lost it (recovering: K_i goes in the clear); borrowed, not kept.</param>
    /// <param name="tlsCertificateFingerprint">SHA-256 of this server's TLS certificate for period p.</param>
    /// <param name="previousSigningKeys">V_j(p-1) for server j from the previous certified KeyTable, or null when unknown.</param>
    /// <param name="recoveringServers">The servers this server believes are recovering (Table 2: no valid M, asked peers for it).</param>
    /// <param name="timeouts">Deadlines; <see cref="KeyTableTimeouts.Default"/> when null.</param>
    /// <exception cref="ArgumentException">Keys of another server or period, or a previous key that is not V_self(p-1).</exception>
    public KeyTableMachine(
        InstanceId instance, ClusterParameters parameters, int self, NetworkId network,
        PeriodKeys newKeys, Ed25519PrivateKey? previousSigningKey, ReadOnlySpan<byte> tlsCertificateFingerprint,
        Func<int, Ed25519PublicKey?> previousSigningKeys, IEnumerable<int> recoveringServers, KeyTableTimeouts? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(newKeys);
        ArgumentNullException.ThrowIfNull(previousSigningKeys);
        ArgumentNullException.ThrowIfNull(recoveringServers);
        if (instance.Protocol != ProtocolKind.KeyTable)
        {
            throw new ArgumentException("A KeyTable machine runs a KeyTable instance.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        if (newKeys.ServerId != self || newKeys.Period != instance.Period)
        {
            throw new ArgumentException("The new keys must be this server's keys for the instance's period.", nameof(newKeys));
        }

        if (previousSigningKey is not null && previousSigningKeys(self) is { } knownPrevious && !knownPrevious.Equals(previousSigningKey.PublicKey))
        {
            throw new ArgumentException("The previous signing key is not the one the previous KeyTable lists for this server.", nameof(previousSigningKey));
        }

        Instance = instance;
        _parameters = parameters;
        _self = self;
        _network = network;
        _previousSigningKeys = previousSigningKeys;
        _recovering = [.. recoveringServers];
        _timeouts = timeouts ?? KeyTableTimeouts.Default;
        _views = new ServerView[parameters.ServerCount];
        for (var j = 0; j < _views.Length; j++)
        {
            _views[j] = new ServerView();
        }

        OwnEntry = SignedKeyTableEntry.Create(
            new KeyTableEntry(newKeys.PublicKeys, tlsCertificateFingerprint), network, newKeys.Signing, previousSigningKey);
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Where the instance is.</summary>
    public KeyTableStatus Status { get; private set; } = KeyTableStatus.Created;

    /// <inheritdoc />
    public bool IsFinished => Status == KeyTableStatus.Decided;

    /// <summary>This server's signed K_i, as broadcast.</summary>
    public SignedKeyTableEntry OwnEntry { get; }

    /// <summary>The durable key of <see cref="OwnEntry"/>, persisted before it is broadcast.</summary>
    public string OwnEntryPersistKey => $"keytable/{Instance.Period}/{Instance.Sequence}/own-entry";

    /// <summary>The decided table, once <see cref="KeyTableDecided"/> was emitted.</summary>
    public KeyTableDocument? DecidedTable { get; private set; }

    /// <summary>Whether the decided table holds this server's own K_i (null before the decision).</summary>
    public bool? OwnEntryInDecidedTable { get; private set; }

    /// <summary>
    /// The table this server would propose now: its own entry and every entry it accepts under the
    /// judging rules, by server id. Suitable as agreement's getValue: it improves as entries arrive
    /// (an authenticated entry replaces one in the clear, rule [ii]).
    /// </summary>
    public byte[] CurrentTable()
    {
        var entries = new List<SignedKeyTableEntry>();
        foreach (var j in _parameters.Servers)
        {
            if (Selected(j) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return new KeyTableDocument(Instance.Period, entries).Encode();
    }

    /// <summary>Created -> Collecting: persist and broadcast K_i, set the judging deadline.</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != KeyTableStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        var encoded = OwnEntry.Encode();
        outbox.Persist(OwnEntryPersistKey, encoded);
        outbox.Broadcast(0, KeyTableWire.EntryRound, KeyTableWire.EntryType, encoded);
        Move(KeyTableStatus.Collecting);
        outbox.SetTimer(JudgingDeadlineTimer, context.Now + _timeouts.JudgingWindow);
        ProposeIfSettled(outbox);
    }

    /// <summary>An entry arrived: judge it (Table 1, remark 1); propose once every server is settled.</summary>
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished)
        {
            return;
        }

        if ((message.Round, message.Type) != (KeyTableWire.EntryRound, KeyTableWire.EntryType))
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, $"unknown round {message.Round} type {message.Type}", message.Signed);
            return;
        }

        if (!SignedKeyTableEntry.TryDecode(message.Payload.Span, out var entry, out var failure))
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, $"a KeyTable entry that does not decode: {failure}", message.Signed);
            return;
        }

        Judge(entry, message, outbox);
        ProposeIfSettled(outbox);
    }

    /// <summary>Collecting -> Proposed when the judging window ends.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (timerId != JudgingDeadlineTimer || IsFinished)
        {
            return; // a stale timer
        }

        _judgingWindowOver = true;
        if (Status == KeyTableStatus.Collecting)
        {
            Propose(outbox);
        }
    }

    /// <summary>
    /// Agreement's validity predicate (see the class remarks and docs/PROTOCOLS.md "KeyTable"): true
    /// when <paramref name="encodedTable"/> is well formed, lists at least n - f servers with correctly
    /// self-signed entries, and does not contradict this server's judgment. Never throws.
    /// </summary>
    public bool IsAcceptableKeyTable(byte[] encodedTable)
    {
        ArgumentNullException.ThrowIfNull(encodedTable);
        if (!KeyTableDocument.TryDecode(encodedTable, _parameters.ServerCount, out var table) ||
            table.Period != Instance.Period || table.Entries.Count < _parameters.Quorum)
        {
            return false;
        }

        foreach (var entry in table.Entries)
        {
            var j = entry.ServerId;
            if (!entry.VerifyNewKeySignature(_network) || !TryAuthenticate(entry, out var authenticated))
            {
                return false;
            }

            if (j == _self)
            {
                // Never vote for one's own impersonation; an omission is detected at the decision.
                if (!SameEntry(entry, OwnEntry))
                {
                    return false;
                }

                continue;
            }

            var view = _views[j - 1];
            if (authenticated || view.Equivocated)
            {
                continue; // j vouched for it with S_j(p-1), or j is proven faulty: nobody honest is impersonated
            }

            if (view.Authenticated is not null)
            {
                if (!SameEntry(entry, view.Authenticated))
                {
                    return false; // rule [ii]: j's authenticated entry wins over one in the clear
                }

                continue;
            }

            if (!_recovering.Contains(j) && !_judgingWindowOver)
            {
                return false; // j's authenticated entry may still come
            }
        }

        return true;
    }

    /// <summary>
    /// Agreement decided <paramref name="encodedTable"/>: check K_i is in it (Table 1, remark 3), report
    /// equivocations the table reveals, emit <see cref="KeyTableDecided"/>.
    /// </summary>
    public void OnKeyTableDecided(ProtocolContext context, byte[] encodedTable, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(encodedTable);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished)
        {
            return;
        }

        if (!KeyTableDocument.TryDecode(encodedTable, _parameters.ServerCount, out var table, out var failure) || table.Period != Instance.Period)
        {
            Alert(outbox, AlertType.MalformedMessage, 0, $"the decided KeyTable does not decode for period {Instance.Period}: {failure}", encodedTable);
            return;
        }

        var ownIncluded = table.TryGet(_self, out var listed) && SameEntry(listed, OwnEntry);
        if (!ownIncluded)
        {
            Alert(outbox, AlertType.ImpersonationDetected, 0,
                listed is null ? "this server's K_i is missing from the decided KeyTable" : "the decided KeyTable holds a K_i for this server that is not its own",
                encodedTable);
        }

        foreach (var entry in table.Entries.Where(e => e.ServerId != _self))
        {
            var view = _views[entry.ServerId - 1];
            if (!view.Equivocated && view.Authenticated is not null && !SameEntry(entry, view.Authenticated) &&
                TryAuthenticate(entry, out var authenticated) && authenticated)
            {
                view.Equivocated = true;
                Alert(outbox, AlertType.Equivocation, entry.ServerId,
                    $"server {entry.ServerId} signed two different K_i with its previous key (one in the decided table)",
                    Evidence(view.Authenticated, entry));
            }
        }

        DecidedTable = table;
        OwnEntryInDecidedTable = ownIncluded;
        Move(KeyTableStatus.Decided);
        outbox.Emit(new KeyTableDecided(Instance, (byte[])encodedTable.Clone()));
    }

    // ---- Judging -----------------------------------------------------------------------------

    private void Judge(SignedKeyTableEntry entry, InboundMessage message, Outbox outbox)
    {
        var j = entry.ServerId;
        if (entry.Entry.Period != Instance.Period)
        {
            var type = entry.Entry.Period < Instance.Period ? AlertType.Replay : AlertType.MalformedMessage;
            Alert(outbox, type, message.Sender, $"a K_{j} of period {entry.Entry.Period} in the KeyTable of period {Instance.Period}", message.Signed);
            return;
        }

        if (j > _parameters.ServerCount)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, $"a K_{j} for a server outside 1..{_parameters.ServerCount}", message.Signed);
            return;
        }

        if (!entry.VerifyNewKeySignature(_network))
        {
            Alert(outbox, AlertType.InvalidSignature, message.Sender, $"K_{j} is not signed with the key it announces", message.Signed);
            return;
        }

        if (!TryAuthenticate(entry, out var authenticated))
        {
            Alert(outbox, AlertType.InvalidSignature, message.Sender, $"K_{j} carries a signature that V_{j}(p-1) does not verify", message.Signed);
            return;
        }

        if (j == _self)
        {
            if (!SameEntry(entry, OwnEntry))
            {
                Alert(outbox, AlertType.ImpersonationDetected, 0,
                    authenticated
                        ? "a K_i for this server signed with its previous key: S_i(p-1) is in other hands"
                        : "a K_i for this server, in the clear, that is not its own",
                    entry.Encode());
            }

            return;
        }

        var view = _views[j - 1];
        if (authenticated)
        {
            JudgeAuthenticated(view, entry, outbox);
        }
        else
        {
            JudgeInTheClear(view, entry, outbox);
        }
    }

    /// <summary>Rules [i] and [ii]: the first authenticated entry wins; a different second one proves equivocation.</summary>
    private void JudgeAuthenticated(ServerView view, SignedKeyTableEntry entry, Outbox outbox)
    {
        if (view.Equivocated)
        {
            return;
        }

        if (view.Authenticated is null)
        {
            view.Authenticated = entry;
            return;
        }

        if (SameEntry(view.Authenticated, entry))
        {
            return; // a copy (or the same K_i with a stripped or re-encoded signature set)
        }

        view.Equivocated = true;
        Alert(outbox, AlertType.Equivocation, entry.ServerId,
            $"server {entry.ServerId} signed two different K_i with its previous key (rule [i]: both discarded)",
            Evidence(view.Authenticated, entry));
    }

    /// <summary>Rule [iii]: two different entries in the clear are both discarded.</summary>
    private void JudgeInTheClear(ServerView view, SignedKeyTableEntry entry, Outbox outbox)
    {
        if (view.ClearConflict)
        {
            return;
        }

        if (view.Clear is null)
        {
            view.Clear = entry;
            return;
        }

        if (SameEntry(view.Clear, entry))
        {
            return;
        }

        view.ClearConflict = true;
        Alert(outbox, AlertType.Equivocation, 0,
            $"two different K_{entry.ServerId} in the clear (rule [iii]: both discarded; either could be an impostor's)",
            Evidence(view.Clear, entry));
    }

    /// <summary>
    /// False when the entry claims a previous-key signature that V_j(p-1) rejects; otherwise true, with
    /// <paramref name="authenticated"/> saying whether that signature was checked and holds.
    /// </summary>
    private bool TryAuthenticate(SignedKeyTableEntry entry, out bool authenticated)
    {
        authenticated = false;
        if (!entry.HasPreviousKeySignature || _previousSigningKeys(entry.ServerId) is not { } previous)
        {
            return true; // in the clear, or not checkable here: judged as in the clear
        }

        authenticated = entry.VerifyPreviousKeySignature(_network, previous);
        return authenticated;
    }

    /// <summary>This server's choice for server j under rules [i]-[iii].</summary>
    private SignedKeyTableEntry? Selected(int j)
    {
        if (j == _self)
        {
            return OwnEntry;
        }

        var view = _views[j - 1];
        if (view.Equivocated)
        {
            return null;
        }

        if (view.Authenticated is not null)
        {
            return view.Authenticated;
        }

        if (view.ClearConflict || view.Clear is null)
        {
            return null;
        }

        return _recovering.Contains(j) || _judgingWindowOver ? view.Clear : null;
    }

    /// <summary>True when no entry still to come could change this server's choice for anybody.</summary>
    private bool Settled() =>
        _parameters.Servers.All(j =>
        {
            if (j == _self)
            {
                return true;
            }

            var view = _views[j - 1];
            return view.Equivocated || view.Authenticated is not null ||
                (_recovering.Contains(j) && (view.Clear is not null || view.ClearConflict));
        });

    private void ProposeIfSettled(Outbox outbox)
    {
        if (Status == KeyTableStatus.Collecting && Settled())
        {
            Propose(outbox);
        }
    }

    private void Propose(Outbox outbox)
    {
        Move(KeyTableStatus.Proposed);
        outbox.Emit(new KeyTableProposal(Instance, CurrentTable()));
    }

    // ---- Helpers -----------------------------------------------------------------------------

    /// <summary>K_i byte equality (keys and fingerprint), whatever signatures came with it.</summary>
    private static bool SameEntry(SignedKeyTableEntry a, SignedKeyTableEntry b) =>
        a.Entry.Encode().AsSpan().SequenceEqual(b.Entry.Encode());

    /// <summary>Two signed entries, each length-prefixed: a third party checks both with V_j(p-1).</summary>
    private static byte[] Evidence(SignedKeyTableEntry first, SignedKeyTableEntry second)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteBytes(first.Encode(), SignedKeyTableEntry.MaxEncodedLength);
        writer.WriteBytes(second.Encode(), SignedKeyTableEntry.MaxEncodedLength);
        return buffer.WrittenSpan.ToArray();
    }

    private void Alert(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, detail, evidence.ToArray()));

    private void Move(KeyTableStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"KeyTable transition {Status} -> {next} is not valid.");
        }

        Status = next;
    }

    private sealed class ServerView
    {
        /// <summary>The first entry for the server signed with its valid previous key.</summary>
        public SignedKeyTableEntry? Authenticated { get; set; }

        /// <summary>Two different authenticated entries were seen: the server is proven faulty (rule [i]).</summary>
        public bool Equivocated { get; set; }

        /// <summary>The first entry for the server in the clear.</summary>
        public SignedKeyTableEntry? Clear { get; set; }

        /// <summary>Two different entries in the clear were seen (rule [iii]).</summary>
        public bool ClearConflict { get; set; }
    }
}
