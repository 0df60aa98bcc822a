// References: RFC 9180 section 5.1.1 (SetupBaseS, SetupBaseR), section 6.1 (single-shot Seal/Open),
// section 7.1.3 (DeriveKeyPair).

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// HPKE base mode (mode 0, RFC 9180): public-key encryption to a recipient's X25519 key without
/// sender authentication. PSK and auth modes are deliberately absent: our peers authenticate with
/// Ed25519 signatures over the sealed message instead.
/// </summary>
public static class HpkeBaseMode
{
    /// <summary>RFC 9180 section 7.1.3 DeriveKeyPair; see <see cref="HpkePrivateKey.Derive"/>.</summary>
    public static HpkePrivateKey DeriveKeyPair(ReadOnlySpan<byte> ikm) => HpkePrivateKey.Derive(ikm);

    /// <summary>GenerateKeyPair: DeriveKeyPair over fresh randomness from <paramref name="random"/>.</summary>
    public static HpkePrivateKey GenerateKeyPair(IRandomSource random) => HpkePrivateKey.Generate(random);

    /// <summary>
    /// SetupBaseS (RFC 9180 section 5.1.1) for a recipient key that may come from an untrusted
    /// party: false, without throwing, when <paramref name="recipientKey"/> has small order.
    /// </summary>
    /// <param name="suite">The ciphersuite; both sides must agree on it.</param>
    /// <param name="recipientKey">pkR.</param>
    /// <param name="info">Application context bound into every key; both sides must pass the same bytes.</param>
    /// <param name="random">Source of the 32-byte ikmE for the ephemeral key.</param>
    /// <param name="encapsulatedKey">enc, to send to the recipient.</param>
    /// <param name="context">The sender context; the caller disposes it.</param>
    public static bool TrySetupBaseS(
        HpkeSuite suite,
        HpkePublicKey recipientKey,
        ReadOnlySpan<byte> info,
        IRandomSource random,
        [NotNullWhen(true)] out byte[]? encapsulatedKey,
        [NotNullWhen(true)] out HpkeSenderContext? context)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(recipientKey);
        ArgumentNullException.ThrowIfNull(random);
        encapsulatedKey = null;
        context = null;

        var enc = new byte[HpkeSuite.EncapsulatedKeyLength];
        Span<byte> sharedSecret = stackalloc byte[DhkemX25519.SharedSecretLength];
        try
        {
            if (!DhkemX25519.TryEncap(recipientKey.Bytes, random, enc, sharedSecret))
            {
                return false;
            }

            context = CreateContext(suite, sharedSecret, info, static (s, k, n, e) => new HpkeSenderContext(s, k, n, e));
            encapsulatedKey = enc;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    /// <summary>SetupBaseS for a recipient key the caller has already vetted.</summary>
    /// <exception cref="ArgumentException"><paramref name="recipientKey"/> has small order (X25519 gives all zeros).</exception>
    public static (byte[] EncapsulatedKey, HpkeSenderContext Context) SetupBaseS(
        HpkeSuite suite,
        HpkePublicKey recipientKey,
        ReadOnlySpan<byte> info,
        IRandomSource random)
    {
        if (!TrySetupBaseS(suite, recipientKey, info, random, out var enc, out var context))
        {
            throw new ArgumentException("The recipient public key has small order: X25519 with it gives all zeros.", nameof(recipientKey));
        }

        return (enc, context);
    }

    /// <summary>
    /// SetupBaseR (RFC 9180 section 5.1.1). <paramref name="encapsulatedKey"/> is untrusted, so a
    /// wrong length or a small-order point gives false, never an exception.
    /// </summary>
    public static bool TrySetupBaseR(
        HpkeSuite suite,
        ReadOnlySpan<byte> encapsulatedKey,
        HpkePrivateKey recipientKey,
        ReadOnlySpan<byte> info,
        [NotNullWhen(true)] out HpkeRecipientContext? context)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(recipientKey);
        context = null;

        Span<byte> sharedSecret = stackalloc byte[DhkemX25519.SharedSecretLength];
        try
        {
            if (!DhkemX25519.TryDecap(encapsulatedKey, recipientKey, sharedSecret))
            {
                return false;
            }

            context = CreateContext(suite, sharedSecret, info, static (s, k, n, e) => new HpkeRecipientContext(s, k, n, e));
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    /// <summary>
    /// Single-shot Seal (RFC 9180 section 6.1): one message to <paramref name="recipientKey"/>, in
    /// the wire form that <see cref="HpkeSealedMessage.TryDecode(ReadOnlySpan{byte}, out HpkeSealedMessage)"/> reads back.
    /// </summary>
    /// <exception cref="ArgumentException">The recipient key has small order, or the plaintext exceeds <see cref="HpkeSealedMessage.MaxCiphertextLength"/> - 16 bytes.</exception>
    public static HpkeSealedMessage Seal(
        HpkeSuite suite,
        HpkePublicKey recipientKey,
        ReadOnlySpan<byte> info,
        ReadOnlySpan<byte> aad,
        ReadOnlySpan<byte> plaintext,
        IRandomSource random)
    {
        if (plaintext.Length > HpkeSealedMessage.MaxCiphertextLength - HpkeSuite.TagLength)
        {
            throw new ArgumentException($"A single-shot message holds at most {HpkeSealedMessage.MaxCiphertextLength - HpkeSuite.TagLength} bytes.", nameof(plaintext));
        }

        var (enc, context) = SetupBaseS(suite, recipientKey, info, random);
        using (context)
        {
            return new HpkeSealedMessage(suite, enc, context.Seal(aad, plaintext));
        }
    }

    /// <summary>
    /// Single-shot Open (RFC 9180 section 6.1). False for every untrusted-data failure: a message
    /// sealed under another suite, a small-order enc, a wrong key, info, aad or tag.
    /// </summary>
    public static bool TryOpen(
        HpkeSuite suite,
        HpkePrivateKey recipientKey,
        ReadOnlySpan<byte> info,
        ReadOnlySpan<byte> aad,
        HpkeSealedMessage message,
        [NotNullWhen(true)] out byte[]? plaintext)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(message);
        plaintext = null;

        // Only the suite the caller expects: the sender does not get to choose the algorithms.
        if (!ReferenceEquals(message.Suite, suite))
        {
            return false;
        }

        if (!TrySetupBaseR(suite, message.EncapsulatedKey.Span, recipientKey, info, out var context))
        {
            return false;
        }

        using (context)
        {
            return context.TryOpen(aad, message.Ciphertext.Span, out plaintext);
        }
    }

    private static T CreateContext<T>(
        HpkeSuite suite,
        ReadOnlySpan<byte> sharedSecret,
        ReadOnlySpan<byte> info,
        ContextFactory<T> create)
        where T : HpkeContext
    {
        Span<byte> key = stackalloc byte[suite.KeyLength];
        Span<byte> baseNonce = stackalloc byte[HpkeSuite.NonceLength];
        Span<byte> exporterSecret = stackalloc byte[HpkeSuite.HashLength];
        try
        {
            HpkeContext.KeyScheduleBase(suite, sharedSecret, info, key, baseNonce, exporterSecret);
            return create(suite, key, baseNonce, exporterSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(baseNonce);
            CryptographicOperations.ZeroMemory(exporterSecret);
        }
    }

    private delegate T ContextFactory<out T>(HpkeSuite suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> baseNonce, ReadOnlySpan<byte> exporterSecret);
}
