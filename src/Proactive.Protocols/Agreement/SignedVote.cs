// References: E. Buchman, J. Kwon, Z. Milosevic, "The latest gossip on BFT consensus",
// arXiv:1807.04938, Algorithm 1 (the PROPOSAL, PREVOTE and PRECOMMIT messages); docs/BRIEF.md
// section 3 ("Broadcast and agreement": votes are individually signed, equivocation is proof).

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.Agreement;

/// <summary>The three kinds of signed statement of Algorithm 1; the byte values are signed, so they never change.</summary>
public enum VoteStep : byte
{
    /// <summary>⟨PROPOSAL, h, round, v, validRound⟩ (signed over id(v), not v itself).</summary>
    Proposal = 1,

    /// <summary>⟨PREVOTE, h, round, id(v) or nil⟩.</summary>
    Prevote = 2,

    /// <summary>⟨PRECOMMIT, h, round, id(v) or nil⟩.</summary>
    Precommit = 3,
}

/// <summary>Domain labels and id(v): the constants every signature and hash of the agreement depends on.</summary>
public static class AgreementDomain
{
    /// <summary>Length of id(v) (SHA-256).</summary>
    public const int ValueIdLength = 32;

    /// <summary>Labels the signed vote encoding, so a vote signature can never be taken for any other signed structure.</summary>
    public const string VoteLabel = "proactive/agreement/v1/vote";

    /// <summary>Labels the hash id(v), so a value id can never collide with another hash in the system.</summary>
    public const string ValueIdLabel = "proactive/agreement/v1/value-id";

    /// <summary>Largest instance context accepted (network id, period, instance, purpose fit easily).</summary>
    public const int MaxInstanceContextLength = 1024;

    /// <summary>Largest round number accepted on the wire; at the growing timeouts this is weeks of rounds.</summary>
    public const int MaxRound = 1 << 24;

    private static readonly byte[] ValueIdPrefix = Encoding.ASCII.GetBytes(ValueIdLabel);

    /// <summary>id(v) = SHA-256(ValueIdLabel || v): what votes and certificates name instead of the value itself.</summary>
    public static byte[] ValueId(ReadOnlySpan<byte> value)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(ValueIdPrefix);
        hash.AppendData(value);
        return hash.GetHashAndReset();
    }
}

/// <summary>
/// One server's signed statement: a proposal header (round, id(v), validRound), a prevote or a
/// precommit (round, id(v) or nil). The signature covers <see cref="SigningBytes"/>, which binds
/// the domain label and the embedder's instance context, so a vote of one instance can never be
/// counted in another.
/// </summary>
/// <remarks>
/// Body layout (after the version byte when encoded alone; no suite byte: no group is involved):
/// step u8 | round u32 | hasValue bool | [valueId 32] | hasValidRound bool | [validRound u32] |
/// signer u16 | signature 64. Only proposals have a value always and may have a validRound;
/// votes never have a validRound.
/// </remarks>
public sealed class SignedVote : ICanonicalEncodable, ICanonicalDecodable<SignedVote>, IEquatable<SignedVote>
{
    /// <summary>The format version byte of a standalone encoding.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The smallest body: no value id, no valid round.</summary>
    public const int MinBodyLength = 1 + 4 + 1 + 1 + 2 + Ed25519PublicKey.SignatureLength;

    private readonly byte[]? _valueId;
    private readonly byte[] _signature;

    private SignedVote(VoteStep step, int round, byte[]? valueId, int validRound, int signer, byte[] signature)
    {
        Step = step;
        Round = round;
        _valueId = valueId;
        ValidRound = validRound;
        Signer = signer;
        _signature = signature;
    }

    /// <summary>Which statement this is.</summary>
    public VoteStep Step { get; }

    /// <summary>The round (0, 1, 2, ...).</summary>
    public int Round { get; }

    /// <summary>id(v), or null for a nil vote.</summary>
    public ReadOnlySpan<byte> ValueId => _valueId;

    /// <summary>Whether this votes for a value (proposals always do).</summary>
    public bool HasValue => _valueId is not null;

    /// <summary>The proposal's validRound (-1 when none); always -1 for votes.</summary>
    public int ValidRound { get; }

    /// <summary>The server that signed, 1..n.</summary>
    public int Signer { get; }

    /// <summary>The Ed25519 signature over <see cref="SigningBytes"/>.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <inheritdoc/>
    public int EncodedLength => 1 + BodyLength;

    internal int BodyLength => MinBodyLength + (HasValue ? AgreementDomain.ValueIdLength : 0) + (ValidRound >= 0 ? 4 : 0);

    internal byte[]? ValueIdOrNull => _valueId;

    /// <summary>Signs a statement with this server's key.</summary>
    /// <exception cref="ArgumentException">The fields break the rules above (e.g. a nil proposal, a vote with a validRound).</exception>
    public static SignedVote Create(Ed25519PrivateKey key, int signer, ReadOnlySpan<byte> instanceContext, VoteStep step, int round, ReadOnlySpan<byte> valueId, bool isNil, int validRound = -1)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = isNil ? null : valueId.ToArray();
        var error = CheckFields(step, round, id, validRound, signer);
        if (error is not null)
        {
            throw new ArgumentException(error);
        }

        if (instanceContext.Length > AgreementDomain.MaxInstanceContextLength)
        {
            throw new ArgumentException($"The instance context is at most {AgreementDomain.MaxInstanceContextLength} bytes.", nameof(instanceContext));
        }

        var message = BuildSigningBytes(instanceContext, step, round, id, validRound, signer);
        return new SignedVote(step, round, id, validRound, signer, key.Sign(message));
    }

    /// <summary>
    /// The bytes a vote signature covers: label | context | step | round | value id or nil |
    /// validRound | signer, each in the codec's canonical form.
    /// </summary>
    public static byte[] SigningBytes(ReadOnlySpan<byte> instanceContext, VoteStep step, int round, ReadOnlySpan<byte> valueId, bool isNil, int validRound, int signer) =>
        BuildSigningBytes(instanceContext, step, round, isNil ? null : valueId.ToArray(), validRound, signer);

    /// <summary>Checks the signature with the signer's key, in the given instance context.</summary>
    public bool Verify(Ed25519PublicKey signerKey, ReadOnlySpan<byte> instanceContext)
    {
        ArgumentNullException.ThrowIfNull(signerKey);
        return instanceContext.Length <= AgreementDomain.MaxInstanceContextLength
            && signerKey.Verify(BuildSigningBytes(instanceContext, Step, Round, _valueId, ValidRound, Signer), _signature);
    }

    /// <summary>Checks the signature against the key of <see cref="Signer"/> as <paramref name="publicKeys"/> knows it.</summary>
    public bool Verify(ClusterParameters parameters, Func<int, Ed25519PublicKey?> publicKeys, ReadOnlySpan<byte> instanceContext)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(publicKeys);
        if (Signer > parameters.ServerCount)
        {
            return false;
        }

        var key = publicKeys(Signer);
        return key is not null && Verify(key, instanceContext);
    }

    /// <summary>True when both name the same slot (signer, round, step): two different such statements are equivocation.</summary>
    public bool SameSlot(SignedVote other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Signer == other.Signer && Round == other.Round && Step == other.Step;
    }

    /// <summary>True when both make the same statement (signatures aside: Ed25519 is deterministic, but a statement is what counts).</summary>
    public bool SameStatement(SignedVote other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return SameSlot(other)
            && ValidRound == other.ValidRound
            && HasValue == other.HasValue
            && ValueId.SequenceEqual(other.ValueId);
    }

    /// <summary>The one canonical encoding.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>Decodes a standalone vote; never throws on bad data.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SignedVote? vote, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<SignedVote>(encoding, null, out vote, out failure);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        WriteBodyTo(ref writer);
    }

    /// <summary>The fields without the version byte, for use inside a larger structure.</summary>
    public void WriteBodyTo(ref CanonicalWriter writer)
    {
        writer.WriteU8((byte)Step);
        writer.WriteU32((uint)Round);
        writer.WriteBool(HasValue);
        if (_valueId is not null)
        {
            writer.WriteFixedBytes(_valueId);
        }

        writer.WriteBool(ValidRound >= 0);
        if (ValidRound >= 0)
        {
            writer.WriteU32((uint)ValidRound);
        }

        writer.WriteU16((ushort)Signer);
        writer.WriteFixedBytes(_signature);
    }

    /// <summary>Reads a standalone vote (version byte, then the body). The suite argument is ignored: votes involve no group.</summary>
    public static bool TryRead(ref CanonicalReader reader, Crypto.Groups.PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out SignedVote value)
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

        return TryReadBody(ref reader, out value);
    }

    /// <summary>Reads the body written by <see cref="WriteBodyTo"/>; checks every field rule, not the signature.</summary>
    public static bool TryReadBody(ref CanonicalReader reader, [MaybeNullWhen(false)] out SignedVote value)
    {
        value = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var step, "step")
            || !reader.TryReadU32(out var round, "round")
            || !reader.TryReadBool(out var hasValue, "hasValue"))
        {
            return false;
        }

        byte[]? id = null;
        if (hasValue)
        {
            if (!reader.TryReadFixedBytes(AgreementDomain.ValueIdLength, out var idSpan, "valueId"))
            {
                return false;
            }

            id = idSpan.ToArray();
        }

        if (!reader.TryReadBool(out var hasValidRound, "hasValidRound"))
        {
            return false;
        }

        uint validRound = uint.MaxValue;
        if (hasValidRound && !reader.TryReadU32(out validRound, "validRound"))
        {
            return false;
        }

        if (!reader.TryReadU16(out var signer, "signer")
            || !reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "signature"))
        {
            return false;
        }

        if (round > AgreementDomain.MaxRound || (hasValidRound && validRound >= round))
        {
            return reader.Fail(CodecError.InvalidValue, start, "round");
        }

        var validRoundValue = hasValidRound ? (int)validRound : -1;
        if (CheckFields((VoteStep)step, (int)round, id, validRoundValue, signer) is not null)
        {
            return reader.Fail(CodecError.InvalidValue, start, "vote");
        }

        value = new SignedVote((VoteStep)step, (int)round, id, validRoundValue, signer, signature.ToArray());
        return true;
    }

    public bool Equals(SignedVote? other) =>
        other is not null && SameStatement(other) && Signature.SequenceEqual(other.Signature);

    public override bool Equals(object? obj) => Equals(obj as SignedVote);

    public override int GetHashCode() => HashCode.Combine(Step, Round, Signer, ValidRound);

    public override string ToString() =>
        $"{Step}(r={Round}, {(HasValue ? Convert.ToHexStringLower(_valueId!)[..12] : "nil")}{(Step == VoteStep.Proposal ? $", vr={ValidRound}" : "")}) by {Signer}";

    private static string? CheckFields(VoteStep step, int round, byte[]? valueId, int validRound, int signer)
    {
        if (step is not (VoteStep.Proposal or VoteStep.Prevote or VoteStep.Precommit))
        {
            return $"Unknown step {(byte)step}.";
        }

        if (round < 0 || round > AgreementDomain.MaxRound)
        {
            return $"Round {round} is outside 0..{AgreementDomain.MaxRound}.";
        }

        if (signer < 1 || signer > ClusterParameters.MaxServers)
        {
            return $"Signer {signer} is outside 1..{ClusterParameters.MaxServers}.";
        }

        if (valueId is not null && valueId.Length != AgreementDomain.ValueIdLength)
        {
            return $"A value id is {AgreementDomain.ValueIdLength} bytes.";
        }

        if (step == VoteStep.Proposal)
        {
            if (valueId is null)
            {
                return "A proposal always names a value.";
            }

            if (validRound < -1 || validRound >= round)
            {
                return "A proposal's validRound is -1 or an earlier round.";
            }
        }
        else if (validRound != -1)
        {
            return "Only proposals carry a validRound.";
        }

        return null;
    }

    private static byte[] BuildSigningBytes(ReadOnlySpan<byte> instanceContext, VoteStep step, int round, byte[]? valueId, int validRound, int signer)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128 + instanceContext.Length);
        var writer = new CanonicalWriter(buffer);
        writer.WriteString(AgreementDomain.VoteLabel, 64);
        writer.WriteBytes(instanceContext, AgreementDomain.MaxInstanceContextLength);
        writer.WriteU8((byte)step);
        writer.WriteU32((uint)round);
        writer.WriteBool(valueId is not null);
        if (valueId is not null)
        {
            writer.WriteFixedBytes(valueId);
        }

        writer.WriteBool(validRound >= 0);
        if (validRound >= 0)
        {
            writer.WriteU32((uint)validRound);
        }

        writer.WriteU16((ushort)signer);
        return buffer.WrittenSpan.ToArray();
    }
}
