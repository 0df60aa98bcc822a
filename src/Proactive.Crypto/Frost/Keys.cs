// References: RFC 9591 section 5 (participants hold (identifier, sk_i) and know PK and every PK_i),
// Appendix C (trusted dealer output: participant_private_keys, group_public_key, vss_commitment),
// Appendix B (prime_order_verify, the final signature check).
using Proactive.Crypto.Groups;
using Proactive.Crypto.Secrets;

namespace Proactive.Crypto.Frost;

/// <summary>
/// A participant's secret signing share sk_i = f(identifier). Never sent: it stays with its owner,
/// is wiped on <see cref="Dispose"/>, and prints as <c>&lt;redacted&gt;</c>.
/// </summary>
public sealed class SigningShare : IDisposable
{
    private readonly SecretScalar _value;

    public SigningShare(Ciphersuite suite, Identifier identifier, Scalar value)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (identifier.Group != suite.Group)
        {
            throw new ArgumentException("The identifier belongs to another suite.", nameof(identifier));
        }

        Suite = suite;
        Identifier = identifier;
        _value = new SecretScalar(suite.Group, value);
    }

    public Ciphersuite Suite { get; }

    public Identifier Identifier { get; }

    /// <summary>The share, as a transient copy for one computation.</summary>
    internal Scalar Value => _value.Value;

    /// <summary>PK_i = sk_i * G, the public half that everyone may know.</summary>
    public VerifyingShare ComputeVerifyingShare() => new(Suite, Identifier, Suite.Group.MultiplyBase(Value));

    /// <summary>Writes SerializeScalar(sk_i) into a caller's buffer, for sealed storage (the caller wipes it).</summary>
    public void WriteTo(Span<byte> destination) => _value.WriteTo(destination);

    public override string ToString() => $"SigningShare({Identifier}, <redacted>)";

    public void Dispose() => _value.Dispose();
}

/// <summary>A participant's public verifying share PK_i = sk_i * G, used to check its signature shares (RFC 9591 section 5.4).</summary>
public sealed class VerifyingShare
{
    public VerifyingShare(Ciphersuite suite, Identifier identifier, Element element)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (identifier.Group != suite.Group)
        {
            throw new ArgumentException("The identifier belongs to another suite.", nameof(identifier));
        }

        Suite = suite;
        Identifier = identifier;
        Element = element;
    }

    public Ciphersuite Suite { get; }

    public Identifier Identifier { get; }

    public Element Element { get; }

    public override string ToString() => $"VerifyingShare({Identifier})";
}

/// <summary>
/// The group public key PK = s * G that FROST signatures verify under. Keeps its serialization, which
/// every binding factor and challenge hashes, so it is encoded once.
/// </summary>
public sealed class GroupPublicKey
{
    private readonly byte[] _encoding;

    public GroupPublicKey(Ciphersuite suite, Element element)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Suite = suite;
        Element = element;
        _encoding = suite.Group.EncodeElement(element);
    }

    private GroupPublicKey(Ciphersuite suite, Element element, byte[] encoding)
    {
        Suite = suite;
        Element = element;
        _encoding = encoding;
    }

    public Ciphersuite Suite { get; }

    public Element Element { get; }

    /// <summary>SerializeElement(PK); for Ed25519 this is the RFC 8032 public key.</summary>
    internal ReadOnlySpan<byte> Encoding => _encoding;

    public byte[] Encode() => (byte[])_encoding.Clone();

    /// <summary>Decodes SerializeElement(PK); false for a wrong length, an invalid point or the identity.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, out GroupPublicKey? key)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (!suite.Group.TryDecodeElement(encoding, out var element))
        {
            key = null;
            return false;
        }

        key = new GroupPublicKey(suite, element, encoding.ToArray());
        return true;
    }

    /// <summary>
    /// RFC 9591 Appendix B prime_order_verify: c = H2(R || PK || msg), accept iff z*G == R + c*PK.
    /// R was validated into the prime-order group on decode, so for Ed25519 this agrees with both the
    /// cofactored and the cofactorless RFC 8032 checks.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> message, Signature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Suite != Suite)
        {
            return false;
        }

        var c = FrostCore.ComputeChallenge(Suite, signature.REncoding, _encoding, message);
        return FrostCore.VerifyEquation(Suite, Element, _encoding, signature.R, signature.REncoding, signature.Z, c, message);
    }

    public override string ToString() => $"GroupPublicKey({Suite.Name}, {Convert.ToHexStringLower(_encoding)})";
}

/// <summary>
/// Everything one participant needs to sign (ZF frost <c>KeyPackage</c>): its identifier and secret share,
/// its verifying share, the group key and the signer-count bounds. Owns the secret share: dispose it.
/// </summary>
public sealed class KeyPackage : IDisposable
{
    /// <summary>Takes ownership of <paramref name="signingShare"/>; computes the verifying share from it.</summary>
    public KeyPackage(SigningShare signingShare, GroupPublicKey groupPublicKey, int minSigners, int maxSigners)
    {
        ArgumentNullException.ThrowIfNull(signingShare);
        ArgumentNullException.ThrowIfNull(groupPublicKey);
        if (groupPublicKey.Suite != signingShare.Suite)
        {
            throw new ArgumentException("The group key belongs to another suite.", nameof(groupPublicKey));
        }

        FrostCore.CheckSignerBounds(minSigners, maxSigners);
        SigningShare = signingShare;
        VerifyingShare = signingShare.ComputeVerifyingShare();
        GroupPublicKey = groupPublicKey;
        MinSigners = minSigners;
        MaxSigners = maxSigners;
    }

    public Ciphersuite Suite => SigningShare.Suite;

    public Identifier Identifier => SigningShare.Identifier;

    public SigningShare SigningShare { get; }

    public VerifyingShare VerifyingShare { get; }

    public GroupPublicKey GroupPublicKey { get; }

    /// <summary>MIN_PARTICIPANTS: the fewest signers whose shares make a signature (threshold t).</summary>
    public int MinSigners { get; }

    /// <summary>MAX_PARTICIPANTS: how many participants hold shares (n).</summary>
    public int MaxSigners { get; }

    public override string ToString() => $"KeyPackage({Identifier}, {MinSigners}-of-{MaxSigners}, <redacted>)";

    public void Dispose() => SigningShare.Dispose();
}

/// <summary>
/// The public half of a key set (ZF frost <c>PublicKeyPackage</c>): the group key and every participant's
/// verifying share. The coordinator needs it to aggregate and to name signers whose shares are wrong.
/// </summary>
public sealed class PublicKeyPackage
{
    private readonly Dictionary<Identifier, VerifyingShare> _verifyingShares;

    public PublicKeyPackage(GroupPublicKey groupPublicKey, IEnumerable<VerifyingShare> verifyingShares, int minSigners)
    {
        ArgumentNullException.ThrowIfNull(groupPublicKey);
        ArgumentNullException.ThrowIfNull(verifyingShares);
        _verifyingShares = [];
        foreach (var share in verifyingShares)
        {
            if (share.Suite != groupPublicKey.Suite)
            {
                throw new ArgumentException("A verifying share belongs to another suite.", nameof(verifyingShares));
            }

            if (!_verifyingShares.TryAdd(share.Identifier, share))
            {
                throw new ArgumentException($"Two verifying shares for {share.Identifier}.", nameof(verifyingShares));
            }
        }

        FrostCore.CheckSignerBounds(minSigners, _verifyingShares.Count);
        GroupPublicKey = groupPublicKey;
        MinSigners = minSigners;
    }

    public Ciphersuite Suite => GroupPublicKey.Suite;

    public GroupPublicKey GroupPublicKey { get; }

    public IReadOnlyDictionary<Identifier, VerifyingShare> VerifyingShares => _verifyingShares;

    public int MinSigners { get; }

    /// <summary>MAX_PARTICIPANTS: one verifying share per participant.</summary>
    public int MaxSigners => _verifyingShares.Count;

    public override string ToString() => $"PublicKeyPackage({Suite.Name}, {MinSigners}-of-{MaxSigners})";
}
