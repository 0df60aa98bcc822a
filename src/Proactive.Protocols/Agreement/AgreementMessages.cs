// References: Buchman, Kwon, Milosevic, arXiv:1807.04938, Algorithm 1 (messages PROPOSAL, PREVOTE,
// PRECOMMIT) and section 3 (gossip: the algorithm assumes a message received by one correct process
// reaches all; the relayed pieces below carry what it needs across Byzantine senders).

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.Agreement;

/// <summary>The <see cref="Machines.InboundMessage.Type"/> byte of agreement messages; on the wire, so never renumbered.</summary>
public enum AgreementMessageType : byte
{
    /// <summary>A <see cref="ProposalMessage"/>.</summary>
    Proposal = 1,

    /// <summary>A <see cref="VoteMessage"/> carrying a PREVOTE.</summary>
    Prevote = 2,

    /// <summary>A <see cref="VoteMessage"/> carrying a PRECOMMIT.</summary>
    Precommit = 3,

    /// <summary>A <see cref="Certificate"/>: the decision, for servers that missed the votes.</summary>
    Decision = 4,

    /// <summary>
    /// Empty: "I precommitted in this round (the attempt) and have not decided". A decided server answers
    /// with its certificate; the others ignore it.
    /// </summary>
    DecisionRequest = 5,
}

/// <summary>
/// ⟨PROPOSAL, round, v, validRound⟩: the proposer's signed header, the value, and, when validRound
/// is not -1, the signed PREVOTEs for (validRound, id(v)) the proposer saw (its polka). The
/// justification lets a server that missed some of those prevotes still apply line 28 of Algorithm 1.
/// </summary>
/// <remarks>Layout: version u8 | header body | value bytes (≤ <see cref="Certificate.MaxValueLength"/>) | count u32 | prevote bodies.</remarks>
public sealed class ProposalMessage : ICanonicalEncodable, ICanonicalDecodable<ProposalMessage>
{
    /// <summary>The format version byte.</summary>
    public const byte FormatVersion = 1;

    private readonly byte[] _value;
    private readonly SignedVote[] _justification;

    /// <summary>Pairs a signed header with its value and justification; <see cref="TryDecode"/> and the machine check that they match.</summary>
    public ProposalMessage(SignedVote header, ReadOnlySpan<byte> value, IEnumerable<SignedVote> justification)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(justification);
        if (value.Length > Certificate.MaxValueLength)
        {
            throw new ArgumentException($"A value is at most {Certificate.MaxValueLength} bytes.", nameof(value));
        }

        Header = header;
        _value = value.ToArray();
        _justification = [.. justification];
        if (_justification.Length > ClusterParameters.MaxServers)
        {
            throw new ArgumentException($"At most {ClusterParameters.MaxServers} justifying prevotes.", nameof(justification));
        }
    }

    /// <summary>The proposer's signed (round, id(v), validRound).</summary>
    public SignedVote Header { get; }

    /// <summary>v.</summary>
    public ReadOnlySpan<byte> Value => _value;

    /// <summary>Signed PREVOTEs for (validRound, id(v)); empty when validRound = -1.</summary>
    public IReadOnlyList<SignedVote> Justification => _justification;

    internal byte[] ValueArray => _value;

    /// <inheritdoc/>
    public int EncodedLength => 1 + Header.BodyLength + 4 + _value.Length + 4 + _justification.Sum(v => v.BodyLength);

    /// <summary>The one canonical encoding.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>
    /// Decodes from untrusted bytes; never throws. Checks structure: the header is a proposal whose
    /// id is id(value), and every justification is a PREVOTE for (validRound, id(value)). Signatures
    /// are the machine's job.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out ProposalMessage? message, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<ProposalMessage>(encoding, null, out message, out failure);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        Header.WriteBodyTo(ref writer);
        writer.WriteBytes(_value, Certificate.MaxValueLength);
        writer.WriteCount(_justification.Length, ClusterParameters.MaxServers);
        foreach (var vote in _justification)
        {
            vote.WriteBodyTo(ref writer);
        }
    }

    /// <summary>Reads a proposal message; the suite argument is ignored (no group is involved).</summary>
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out ProposalMessage value)
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
        if (!SignedVote.TryReadBody(ref reader, out var header))
        {
            return false;
        }

        if (header.Step != VoteStep.Proposal)
        {
            return reader.Fail(CodecError.InvalidValue, headerOffset, "header");
        }

        var valueOffset = reader.Offset;
        if (!reader.TryReadBytes(Certificate.MaxValueLength, out var proposed, "value"))
        {
            return false;
        }

        if (!AgreementDomain.ValueId(proposed).AsSpan().SequenceEqual(header.ValueId))
        {
            return reader.Fail(CodecError.InvalidValue, valueOffset, "value");
        }

        if (!reader.TryReadCount(ClusterParameters.MaxServers, SignedVote.MinBodyLength, out var count, "justification"))
        {
            return false;
        }

        var justification = new SignedVote[count];
        for (var i = 0; i < count; i++)
        {
            var voteOffset = reader.Offset;
            if (!SignedVote.TryReadBody(ref reader, out var vote))
            {
                return false;
            }

            if (vote.Step != VoteStep.Prevote || vote.Round != header.ValidRound || !vote.ValueId.SequenceEqual(header.ValueId))
            {
                return reader.Fail(CodecError.InvalidValue, voteOffset, "justification");
            }

            justification[i] = vote;
        }

        if (header.ValidRound < 0 && count != 0)
        {
            return reader.Fail(CodecError.InvalidValue, valueOffset, "justification");
        }

        value = new ProposalMessage(header, proposed, justification);
        return true;
    }
}

/// <summary>
/// A PREVOTE or PRECOMMIT, and optionally the signed proposal header the voter saw for that round.
/// Relaying the header (about 100 bytes, not the value) lets servers that received different
/// proposals from an equivocating proposer find out and prove it.
/// </summary>
/// <remarks>Layout: version u8 | vote body | hasProposal bool | [proposal header body].</remarks>
public sealed class VoteMessage : ICanonicalEncodable, ICanonicalDecodable<VoteMessage>
{
    /// <summary>The format version byte.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Pairs a vote with the proposal header its sender saw, if any.</summary>
    public VoteMessage(SignedVote vote, SignedVote? proposalHeader)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (vote.Step == VoteStep.Proposal || (proposalHeader is not null && (proposalHeader.Step != VoteStep.Proposal || proposalHeader.Round != vote.Round)))
        {
            throw new ArgumentException("A vote message holds a prevote or precommit and at most a proposal header of the same round.");
        }

        Vote = vote;
        ProposalHeader = proposalHeader;
    }

    /// <summary>The PREVOTE or PRECOMMIT.</summary>
    public SignedVote Vote { get; }

    /// <summary>The signed proposal header of the same round the sender accepted, or null.</summary>
    public SignedVote? ProposalHeader { get; }

    /// <inheritdoc/>
    public int EncodedLength => 1 + Vote.BodyLength + 1 + (ProposalHeader?.BodyLength ?? 0);

    /// <summary>The one canonical encoding.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>Decodes from untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out VoteMessage? message, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<VoteMessage>(encoding, null, out message, out failure);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        Vote.WriteBodyTo(ref writer);
        writer.WriteBool(ProposalHeader is not null);
        ProposalHeader?.WriteBodyTo(ref writer);
    }

    /// <summary>Reads a vote message; the suite argument is ignored (no group is involved).</summary>
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out VoteMessage value)
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

        var voteOffset = reader.Offset;
        if (!SignedVote.TryReadBody(ref reader, out var vote))
        {
            return false;
        }

        if (vote.Step == VoteStep.Proposal)
        {
            return reader.Fail(CodecError.InvalidValue, voteOffset, "vote");
        }

        if (!reader.TryReadBool(out var hasProposal, "hasProposal"))
        {
            return false;
        }

        SignedVote? header = null;
        if (hasProposal)
        {
            var headerOffset = reader.Offset;
            if (!SignedVote.TryReadBody(ref reader, out header))
            {
                return false;
            }

            if (header.Step != VoteStep.Proposal || header.Round != vote.Round)
            {
                return reader.Fail(CodecError.InvalidValue, headerOffset, "proposalHeader");
            }
        }

        value = new VoteMessage(vote, header);
        return true;
    }
}
