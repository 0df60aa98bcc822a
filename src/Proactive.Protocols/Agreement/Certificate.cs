// References: Buchman, Kwon, Milosevic, arXiv:1807.04938, Algorithm 1 lines 49-54 (decide on
// 2f+1 PRECOMMITs for id(v) in one round; we use n - f, the same number when n = 3f + 1);
// docs/BRIEF.md section 3 ("committed only with a certificate: n-f signatures by distinct servers").

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.Agreement;

/// <summary>Why <see cref="Certificate.Verify"/> refused a certificate (or that it did not).</summary>
public enum CertificateError : byte
{
    /// <summary>The certificate proves the decision.</summary>
    None = 0,

    /// <summary>Fewer than n - f signatures.</summary>
    TooFewSignatures = 1,

    /// <summary>A server signs twice (or the signers are not in ascending order, which hides duplicates).</summary>
    DuplicateSigner = 2,

    /// <summary>A signer outside 1..n, or one whose public key is unknown.</summary>
    UnknownSigner = 3,

    /// <summary>The value id is not id(value).</summary>
    ValueIdMismatch = 4,

    /// <summary>A signature that does not verify as a PRECOMMIT for (context, round, value id); <see cref="CertificateVerification.Culprit"/> names its signer.</summary>
    InvalidSignature = 5,
}

/// <summary>The outcome of <see cref="Certificate.Verify"/>: an error and the signer it concerns (0 when none).</summary>
public readonly record struct CertificateVerification(CertificateError Error, int Culprit)
{
    /// <summary>Whether the certificate proves the decision.</summary>
    public bool IsValid => Error == CertificateError.None;
}

/// <summary>One PRECOMMIT signature in a certificate: the signer and its Ed25519 signature.</summary>
public readonly record struct PrecommitSignature(int Signer, byte[] Signature);

/// <summary>
/// A transferable proof that the agreement decided <see cref="Value"/>: n - f PRECOMMITs for
/// id(value) in one round, signed by distinct servers. Two valid certificates of one instance
/// never name different values (Tendermint's agreement property), so any server can show its
/// decision to another, and a server that missed the votes can adopt it.
/// </summary>
/// <remarks>
/// Layout: version u8 (no suite byte: no group is involved) | round u32 | valueId 32 |
/// value bytes (u32 length, at most <see cref="MaxValueLength"/>) | count u32 | (signer u16,
/// signature 64) in strictly ascending signer order. The order makes the encoding canonical; the
/// decoder refuses other orders, and <see cref="Verify"/> refuses duplicates in certificates built in memory.
/// </remarks>
public sealed class Certificate : ICanonicalEncodable, ICanonicalDecodable<Certificate>
{
    /// <summary>The format version byte.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Largest value a certificate (and a proposal) carries.</summary>
    public const int MaxValueLength = 4 << 20;

    private const int SignatureEntryLength = 2 + Ed25519PublicKey.SignatureLength;

    private readonly byte[] _valueId;
    private readonly byte[] _value;
    private readonly PrecommitSignature[] _signatures;

    /// <summary>Builds a certificate from parts; nothing is checked here beyond shapes: call <see cref="Verify"/>.</summary>
    /// <exception cref="ArgumentException">A value id of the wrong length, a signature of the wrong length, or too long a value.</exception>
    public Certificate(int round, ReadOnlySpan<byte> valueId, ReadOnlySpan<byte> value, IEnumerable<PrecommitSignature> signatures)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(round, AgreementDomain.MaxRound);
        if (valueId.Length != AgreementDomain.ValueIdLength)
        {
            throw new ArgumentException($"A value id is {AgreementDomain.ValueIdLength} bytes.", nameof(valueId));
        }

        if (value.Length > MaxValueLength)
        {
            throw new ArgumentException($"A value is at most {MaxValueLength} bytes.", nameof(value));
        }

        _signatures = [.. signatures];
        foreach (var s in _signatures)
        {
            if (s.Signature is null || s.Signature.Length != Ed25519PublicKey.SignatureLength || s.Signer < 1 || s.Signer > ClusterParameters.MaxServers)
            {
                throw new ArgumentException("Each signature is 64 bytes by a signer in 1..255.", nameof(signatures));
            }
        }

        Round = round;
        _valueId = valueId.ToArray();
        _value = value.ToArray();
    }

    /// <summary>The round whose PRECOMMITs these are.</summary>
    public int Round { get; }

    /// <summary>id(value).</summary>
    public ReadOnlySpan<byte> ValueId => _valueId;

    /// <summary>The decided value.</summary>
    public ReadOnlySpan<byte> Value => _value;

    /// <summary>The PRECOMMIT signatures, in the order they are encoded.</summary>
    public IReadOnlyList<PrecommitSignature> Signatures => _signatures;

    /// <inheritdoc/>
    public int EncodedLength => 1 + 4 + AgreementDomain.ValueIdLength + 4 + _value.Length + 4 + (_signatures.Length * SignatureEntryLength);

    /// <summary>
    /// Checks the certificate for an instance: at least n - f signatures, distinct signers in 1..n
    /// in ascending order, value id = id(value), and every signature a valid PRECOMMIT of its
    /// signer for (instanceContext, round, value id). Structural checks come before any signature.
    /// </summary>
    public CertificateVerification Verify(ClusterParameters parameters, Func<int, Ed25519PublicKey?> publicKeys, ReadOnlySpan<byte> instanceContext)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(publicKeys);
        var previous = 0;
        foreach (var s in _signatures)
        {
            if (s.Signer <= previous)
            {
                return new CertificateVerification(CertificateError.DuplicateSigner, s.Signer);
            }

            if (s.Signer > parameters.ServerCount)
            {
                return new CertificateVerification(CertificateError.UnknownSigner, s.Signer);
            }

            previous = s.Signer;
        }

        if (_signatures.Length < parameters.Quorum)
        {
            return new CertificateVerification(CertificateError.TooFewSignatures, 0);
        }

        if (!AgreementDomain.ValueId(_value).AsSpan().SequenceEqual(_valueId))
        {
            return new CertificateVerification(CertificateError.ValueIdMismatch, 0);
        }

        if (instanceContext.Length > AgreementDomain.MaxInstanceContextLength)
        {
            return new CertificateVerification(CertificateError.InvalidSignature, 0);
        }

        foreach (var s in _signatures)
        {
            var key = publicKeys(s.Signer);
            if (key is null)
            {
                return new CertificateVerification(CertificateError.UnknownSigner, s.Signer);
            }

            var message = SignedVote.SigningBytes(instanceContext, VoteStep.Precommit, Round, _valueId, isNil: false, validRound: -1, s.Signer);
            if (!key.Verify(message, s.Signature))
            {
                return new CertificateVerification(CertificateError.InvalidSignature, s.Signer);
            }
        }

        return new CertificateVerification(CertificateError.None, 0);
    }

    /// <summary>The one canonical encoding.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>Decodes a certificate from untrusted bytes; never throws on bad data.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out Certificate? certificate, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<Certificate>(encoding, null, out certificate, out failure);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        writer.WriteU32((uint)Round);
        writer.WriteFixedBytes(_valueId);
        writer.WriteBytes(_value, MaxValueLength);
        writer.WriteCount(_signatures.Length, ClusterParameters.MaxServers);
        foreach (var s in _signatures)
        {
            writer.WriteU16((ushort)s.Signer);
            writer.WriteFixedBytes(s.Signature);
        }
    }

    /// <summary>Reads a certificate; the suite argument is ignored (no group is involved). Signers must be strictly ascending.</summary>
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out Certificate value)
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

        var roundOffset = reader.Offset;
        if (!reader.TryReadU32(out var round, "round")
            || !reader.TryReadFixedBytes(AgreementDomain.ValueIdLength, out var valueId, "valueId")
            || !reader.TryReadBytes(MaxValueLength, out var certifiedValue, "value"))
        {
            return false;
        }

        if (round > AgreementDomain.MaxRound)
        {
            return reader.Fail(CodecError.InvalidValue, roundOffset, "round");
        }

        if (!reader.TryReadCount(ClusterParameters.MaxServers, SignatureEntryLength, out var count, "signatures"))
        {
            return false;
        }

        var signatures = new PrecommitSignature[count];
        var previous = 0;
        for (var i = 0; i < count; i++)
        {
            var entry = reader.Offset;
            if (!reader.TryReadU16(out var signer, "signer")
                || !reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "signature"))
            {
                return false;
            }

            if (signer <= previous)
            {
                return reader.Fail(CodecError.NonCanonical, entry, "signer");
            }

            if (signer > ClusterParameters.MaxServers)
            {
                return reader.Fail(CodecError.InvalidValue, entry, "signer");
            }

            previous = signer;
            signatures[i] = new PrecommitSignature(signer, signature.ToArray());
        }

        value = new Certificate((int)round, valueId, certifiedValue, signatures);
        return true;
    }
}
