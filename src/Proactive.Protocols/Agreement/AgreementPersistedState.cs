// References: E. Buchman, J. Kwon, Z. Milosevic, "The latest gossip on BFT consensus",
// arXiv:1807.04938, Algorithm 1, lines 2-8 (round_p, step_p, decision_p, lockedValue_p,
// lockedRound_p, validValue_p, validRound_p): the state a correct process keeps; section 4 argues
// safety from "a correct process never signs two different statements for one (round, step)" and
// from the lock, both of which must survive a crash. docs/BRIEF.md section 3 ("equivocation is proof").

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Agreement;

/// <summary>
/// What one server's <see cref="TendermintAgreement"/> persists (under
/// <see cref="TendermintAgreement.StateKey"/>) before any statement it signed leaves: enough that a
/// restarted server re-sends the same signed statements and never signs a conflicting one.
/// </summary>
/// <remarks>
/// <para>It is not secret (every statement in it is sent to every server), but it is safety-critical:
/// losing it, or replacing it by an older copy, lets the restarted server equivocate.</para>
/// <para>Layout, version 1 (one canonical encoding; lists strictly ascending):
/// version u8 | protocol u8 | period u64 | sequence u64 | self u16 | n u16 |
/// instanceContext bytes(≤ 1024) | instanceSeed u64 | round u32 | step u8 |
/// hasLock bool | [lockedRound u32 | lockedValue bytes] |
/// hasValid bool | [validRound u32 | validValue bytes | count u32 | prevote bodies (signer ascending)] |
/// count u32 | own <see cref="ProposalMessage"/>s (round ascending) |
/// count u32 | own <see cref="VoteMessage"/>s ((round, step) ascending) |
/// hasDecision bool | [<see cref="Certificate"/>].</para>
/// <para>The decoder checks structure only (rules of the fields, ordering, that own statements are
/// signed by <see cref="Self"/> in rounds up to <see cref="Round"/>); signatures and the match with
/// the running configuration are checked by <see cref="TendermintAgreement.TryRestore"/>.</para>
/// </remarks>
public sealed class AgreementPersistedState : ICanonicalEncodable, ICanonicalDecodable<AgreementPersistedState>
{
    /// <summary>The format version byte.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Upper bound on each list (far above what MaxRound rounds of one server can sign).</summary>
    private const int MaxStatements = 1 << 26;

    private readonly byte[] _instanceContext;
    private readonly byte[]? _lockedValue;
    private readonly byte[]? _validValue;
    private readonly SignedVote[] _validJustification;
    private readonly ProposalMessage[] _ownProposals;
    private readonly VoteMessage[] _ownVotes;

    /// <summary>Builds a state; lists are sorted into their canonical order.</summary>
    internal AgreementPersistedState(
        InstanceId instance,
        int self,
        int serverCount,
        ReadOnlySpan<byte> instanceContext,
        ulong instanceSeed,
        int round,
        AgreementStep step,
        int lockedRound,
        byte[]? lockedValue,
        int validRound,
        byte[]? validValue,
        IEnumerable<SignedVote> validJustification,
        IEnumerable<ProposalMessage> ownProposals,
        IEnumerable<VoteMessage> ownVotes,
        Certificate? decision)
    {
        Instance = instance;
        Self = self;
        ServerCount = serverCount;
        _instanceContext = instanceContext.ToArray();
        InstanceSeed = instanceSeed;
        Round = round;
        Step = step;
        LockedRound = lockedValue is null ? -1 : lockedRound;
        _lockedValue = lockedValue;
        ValidRound = validValue is null ? -1 : validRound;
        _validValue = validValue;
        _validJustification = validValue is null ? [] : [.. validJustification.OrderBy(v => v.Signer)];
        _ownProposals = [.. ownProposals.OrderBy(p => p.Header.Round)];
        _ownVotes = [.. ownVotes.OrderBy(v => v.Vote.Round).ThenBy(v => v.Vote.Step)];
        Decision = decision;
    }

    /// <summary>The instance this state belongs to.</summary>
    public InstanceId Instance { get; }

    /// <summary>The server that persisted it.</summary>
    public int Self { get; }

    /// <summary>n when it was persisted.</summary>
    public int ServerCount { get; }

    /// <summary>The instance context every signature binds.</summary>
    public ReadOnlySpan<byte> InstanceContext => _instanceContext;

    /// <summary>The proposer-rotation seed.</summary>
    public ulong InstanceSeed { get; }

    /// <summary>round_p.</summary>
    public int Round { get; }

    /// <summary>step_p (never <see cref="AgreementStep.NotStarted"/>: nothing is persisted before Start).</summary>
    public AgreementStep Step { get; }

    /// <summary>lockedRound_p, -1 when not locked.</summary>
    public int LockedRound { get; }

    /// <summary>lockedValue_p, or null.</summary>
    public byte[]? LockedValue => _lockedValue?.ToArray();

    /// <summary>validRound_p, -1 when none.</summary>
    public int ValidRound { get; }

    /// <summary>validValue_p, or null.</summary>
    public byte[]? ValidValue => _validValue?.ToArray();

    /// <summary>The signed PREVOTEs for (validRound, id(validValue)) this server saw: the justification of a re-proposal.</summary>
    public IReadOnlyList<SignedVote> ValidJustification => _validJustification;

    /// <summary>Every proposal this server signed in the instance.</summary>
    public IReadOnlyList<ProposalMessage> OwnProposals => _ownProposals;

    /// <summary>Every PREVOTE and PRECOMMIT this server signed in the instance, as sent.</summary>
    public IReadOnlyList<VoteMessage> OwnVotes => _ownVotes;

    /// <summary>decision_p's certificate, or null.</summary>
    public Certificate? Decision { get; }

    internal byte[]? LockedValueArray => _lockedValue;

    internal byte[]? ValidValueArray => _validValue;

    internal byte[] InstanceContextArray => _instanceContext;

    /// <inheritdoc/>
    public int EncodedLength =>
        1 + 1 + 8 + 8 + 2 + 2
        + 4 + _instanceContext.Length + 8 + 4 + 1
        + 1 + (_lockedValue is null ? 0 : 4 + 4 + _lockedValue.Length)
        + 1 + (_validValue is null ? 0 : 4 + 4 + _validValue.Length + 4 + _validJustification.Sum(v => v.BodyLength))
        + 4 + _ownProposals.Sum(p => p.EncodedLength)
        + 4 + _ownVotes.Sum(v => v.EncodedLength)
        + 1 + (Decision?.EncodedLength ?? 0);

    /// <summary>The one canonical encoding.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>Decodes persisted bytes; never throws. A failure means the store is corrupted (see <see cref="TendermintAgreement.TryRestore"/>).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out AgreementPersistedState? state, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<AgreementPersistedState>(encoding, null, out state, out failure);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        writer.WriteU8((byte)Instance.Protocol);
        writer.WriteU64(Instance.Period);
        writer.WriteU64(Instance.Sequence);
        writer.WriteU16((ushort)Self);
        writer.WriteU16((ushort)ServerCount);
        writer.WriteBytes(_instanceContext, AgreementDomain.MaxInstanceContextLength);
        writer.WriteU64(InstanceSeed);
        writer.WriteU32((uint)Round);
        writer.WriteU8((byte)Step);
        writer.WriteBool(_lockedValue is not null);
        if (_lockedValue is not null)
        {
            writer.WriteU32((uint)LockedRound);
            writer.WriteBytes(_lockedValue, Certificate.MaxValueLength);
        }

        writer.WriteBool(_validValue is not null);
        if (_validValue is not null)
        {
            writer.WriteU32((uint)ValidRound);
            writer.WriteBytes(_validValue, Certificate.MaxValueLength);
            writer.WriteCount(_validJustification.Length, ClusterParameters.MaxServers);
            foreach (var vote in _validJustification)
            {
                vote.WriteBodyTo(ref writer);
            }
        }

        writer.WriteCount(_ownProposals.Length, MaxStatements);
        foreach (var proposal in _ownProposals)
        {
            proposal.WriteTo(ref writer);
        }

        writer.WriteCount(_ownVotes.Length, MaxStatements);
        foreach (var vote in _ownVotes)
        {
            vote.WriteTo(ref writer);
        }

        writer.WriteBool(Decision is not null);
        Decision?.WriteTo(ref writer);
    }

    /// <summary>Reads a persisted state; the suite argument is ignored (no group is involved).</summary>
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out AgreementPersistedState value)
    {
        value = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        var headerOffset = reader.Offset;
        if (!reader.TryReadU8(out var protocol, "protocol")
            || !reader.TryReadU64(out var period, "period")
            || !reader.TryReadU64(out var sequence, "sequence")
            || !reader.TryReadU16(out var self, "self")
            || !reader.TryReadU16(out var serverCount, "serverCount")
            || !reader.TryReadBytes(AgreementDomain.MaxInstanceContextLength, out var context, "instanceContext")
            || !reader.TryReadU64(out var seed, "instanceSeed"))
        {
            return false;
        }

        if (!Enum.IsDefined((ProtocolKind)protocol) || serverCount < 1 || serverCount > ClusterParameters.MaxServers || self < 1 || self > serverCount)
        {
            return reader.Fail(CodecError.InvalidValue, headerOffset, "header");
        }

        var roundOffset = reader.Offset;
        if (!reader.TryReadU32(out var roundRaw, "round") || !reader.TryReadU8(out var stepRaw, "step"))
        {
            return false;
        }

        var step = (AgreementStep)stepRaw;
        if (roundRaw > AgreementDomain.MaxRound || step is not (AgreementStep.Propose or AgreementStep.Prevote or AgreementStep.Precommit or AgreementStep.Decided))
        {
            return reader.Fail(CodecError.InvalidValue, roundOffset, "round");
        }

        var round = (int)roundRaw;
        if (!TryReadRoundValue(ref reader, round, "lock", out var lockedRound, out var lockedValue)
            || !TryReadRoundValue(ref reader, round, "valid", out var validRound, out var validValue))
        {
            return false;
        }

        var justification = new List<SignedVote>();
        if (validValue is not null)
        {
            var validId = AgreementDomain.ValueId(validValue);
            if (!reader.TryReadCount(serverCount, SignedVote.MinBodyLength, out var count, "validJustification"))
            {
                return false;
            }

            for (var i = 0; i < count; i++)
            {
                var voteOffset = reader.Offset;
                if (!SignedVote.TryReadBody(ref reader, out var vote))
                {
                    return false;
                }

                if (vote.Step != VoteStep.Prevote || vote.Round != validRound || !vote.ValueId.SequenceEqual(validId) || vote.Signer > serverCount)
                {
                    return reader.Fail(CodecError.InvalidValue, voteOffset, "validJustification");
                }

                if (i > 0 && vote.Signer <= justification[^1].Signer)
                {
                    return reader.Fail(CodecError.NonCanonical, voteOffset, "validJustification");
                }

                justification.Add(vote);
            }
        }

        if (!reader.TryReadCount(MaxStatements, 1 + SignedVote.MinBodyLength, out var proposalCount, "ownProposals"))
        {
            return false;
        }

        var proposals = new ProposalMessage[proposalCount];
        for (var i = 0; i < proposalCount; i++)
        {
            var proposalOffset = reader.Offset;
            if (!ProposalMessage.TryRead(ref reader, null, out var proposal))
            {
                return false;
            }

            if (proposal.Header.Signer != self || proposal.Header.Round > round)
            {
                return reader.Fail(CodecError.InvalidValue, proposalOffset, "ownProposals");
            }

            if (i > 0 && proposal.Header.Round <= proposals[i - 1].Header.Round)
            {
                return reader.Fail(CodecError.NonCanonical, proposalOffset, "ownProposals");
            }

            proposals[i] = proposal;
        }

        if (!reader.TryReadCount(MaxStatements, 1 + SignedVote.MinBodyLength + 1, out var voteCount, "ownVotes"))
        {
            return false;
        }

        var votes = new VoteMessage[voteCount];
        for (var i = 0; i < voteCount; i++)
        {
            var messageOffset = reader.Offset;
            if (!VoteMessage.TryRead(ref reader, null, out var message))
            {
                return false;
            }

            var vote = message.Vote;
            if (vote.Signer != self || vote.Round > round)
            {
                return reader.Fail(CodecError.InvalidValue, messageOffset, "ownVotes");
            }

            if (i > 0 && (vote.Round, vote.Step).CompareTo((votes[i - 1].Vote.Round, votes[i - 1].Vote.Step)) <= 0)
            {
                return reader.Fail(CodecError.NonCanonical, messageOffset, "ownVotes");
            }

            votes[i] = message;
        }

        if (!reader.TryReadBool(out var hasDecision, "hasDecision"))
        {
            return false;
        }

        Certificate? decision = null;
        var decisionOffset = reader.Offset;
        if (hasDecision && !Certificate.TryRead(ref reader, null, out decision))
        {
            return false;
        }

        if (hasDecision != (step == AgreementStep.Decided))
        {
            return reader.Fail(CodecError.InvalidValue, decisionOffset, "decision");
        }

        value = new AgreementPersistedState(
            new InstanceId((ProtocolKind)protocol, period, sequence),
            self,
            serverCount,
            context,
            seed,
            round,
            step,
            lockedRound,
            lockedValue,
            validRound,
            validValue,
            justification,
            proposals,
            votes,
            decision);
        return true;
    }

    private static bool TryReadRoundValue(ref CanonicalReader reader, int round, string field, out int valueRound, out byte[]? value)
    {
        valueRound = -1;
        value = null;
        if (!reader.TryReadBool(out var present, field))
        {
            return false;
        }

        if (!present)
        {
            return true;
        }

        var offset = reader.Offset;
        if (!reader.TryReadU32(out var raw, field) || !reader.TryReadBytes(Certificate.MaxValueLength, out var bytes, field))
        {
            return false;
        }

        if (raw > (uint)round)
        {
            return reader.Fail(CodecError.InvalidValue, offset, field);
        }

        valueRound = (int)raw;
        value = bytes.ToArray();
        return true;
    }
}
