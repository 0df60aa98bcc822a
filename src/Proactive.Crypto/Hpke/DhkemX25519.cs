// References: RFC 9180 section 4.1 (DH-Based KEM: Encap, Decap, ExtractAndExpand),
// section 7.1.3 (DeriveKeyPair), section 7.1.4 (all-zero X25519 output check); RFC 7748 (X25519).

using System.Diagnostics;
using System.Security.Cryptography;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// DHKEM(X25519, HKDF-SHA256). X25519 is libsodium's <c>crypto_scalarmult</c>; the KEM framing
/// (labels, kem_context) is ours.
/// </summary>
internal static unsafe class DhkemX25519
{
    /// <summary>Nsecret.</summary>
    internal const int SharedSecretLength = 32;

    /// <summary><c>suite_id = "KEM" || I2OSP(kem_id, 2)</c> (RFC 9180 section 4.1).</summary>
    private static ReadOnlySpan<byte> KemSuiteId => [(byte)'K', (byte)'E', (byte)'M', 0x00, 0x20];

    /// <summary>DeriveKeyPair (RFC 9180 section 7.1.3): for X25519, sk is the 32-byte "sk" expansion, unclamped.</summary>
    internal static void DeriveKeyPair(ReadOnlySpan<byte> ikm, Span<byte> secretKey, Span<byte> publicKey)
    {
        Debug.Assert(secretKey.Length == HpkeSuite.PrivateKeyLength && publicKey.Length == HpkeSuite.PublicKeyLength);
        Span<byte> dkpPrk = stackalloc byte[HpkeSuite.HashLength];
        try
        {
            HpkeLabeledKdf.LabeledExtract(KemSuiteId, [], "dkp_prk"u8, ikm, dkpPrk);
            HpkeLabeledKdf.LabeledExpand(KemSuiteId, dkpPrk, "sk"u8, [], secretKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dkpPrk);
        }

        ComputePublicKey(secretKey, publicKey);
    }

    /// <summary>pk(sk) = X25519(sk, 9).</summary>
    internal static void ComputePublicKey(ReadOnlySpan<byte> secretKey, Span<byte> publicKey)
    {
        Debug.Assert(secretKey.Length == HpkeSuite.PrivateKeyLength && publicKey.Length == HpkeSuite.PublicKeyLength);
        Libsodium.EnsureInitialized();
        int rc;
        fixed (byte* q = publicKey)
        fixed (byte* n = secretKey)
        {
            rc = Libsodium.crypto_scalarmult_base(q, n);
        }

        // A clamped scalar is a nonzero multiple of 8 below the group order, so the result is never the identity.
        if (rc != 0)
        {
            throw new InvalidOperationException("crypto_scalarmult_base failed on a clamped scalar: libsodium is broken.");
        }
    }

    /// <summary>
    /// X25519(sk, pk); false when the output is all zeros (pk of small order, RFC 9180 section 7.1.4),
    /// which libsodium reports as -1. <paramref name="dh"/> is zeroed on failure.
    /// </summary>
    internal static bool TryDh(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> publicKey, Span<byte> dh)
    {
        Debug.Assert(secretKey.Length == HpkeSuite.PrivateKeyLength && publicKey.Length == HpkeSuite.PublicKeyLength);
        Debug.Assert(dh.Length == Libsodium.crypto_scalarmult_BYTES);
        Libsodium.EnsureInitialized();
        int rc;
        fixed (byte* q = dh)
        fixed (byte* n = secretKey)
        fixed (byte* p = publicKey)
        {
            rc = Libsodium.crypto_scalarmult(q, n, p);
        }

        if (rc != 0)
        {
            CryptographicOperations.ZeroMemory(dh);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Encap(pkR) (RFC 9180 section 4.1). The ephemeral key is DeriveKeyPair(32 random bytes), so an
    /// injected <see cref="IRandomSource"/> replays the vectors' <c>ikmE</c>. False when pkR is of small order.
    /// </summary>
    internal static bool TryEncap(ReadOnlySpan<byte> recipientPublicKey, IRandomSource random, Span<byte> enc, Span<byte> sharedSecret)
    {
        Debug.Assert(enc.Length == HpkeSuite.EncapsulatedKeyLength && sharedSecret.Length == SharedSecretLength);
        Span<byte> ikmE = stackalloc byte[HpkeSuite.PrivateKeyLength];
        Span<byte> skE = stackalloc byte[HpkeSuite.PrivateKeyLength];
        Span<byte> dh = stackalloc byte[Libsodium.crypto_scalarmult_BYTES];
        try
        {
            random.Fill(ikmE);
            DeriveKeyPair(ikmE, skE, enc);
            if (!TryDh(skE, recipientPublicKey, dh))
            {
                enc.Clear();
                return false;
            }

            ExtractAndExpand(dh, enc, recipientPublicKey, sharedSecret);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ikmE);
            CryptographicOperations.ZeroMemory(skE);
            CryptographicOperations.ZeroMemory(dh);
        }
    }

    /// <summary>
    /// Decap(enc, skR) (RFC 9180 section 4.1). False for an enc of the wrong length or of small order:
    /// enc comes from the wire and must never throw.
    /// </summary>
    internal static bool TryDecap(ReadOnlySpan<byte> enc, HpkePrivateKey recipientKey, Span<byte> sharedSecret)
    {
        Debug.Assert(sharedSecret.Length == SharedSecretLength);
        if (enc.Length != HpkeSuite.EncapsulatedKeyLength)
        {
            return false;
        }

        Span<byte> dh = stackalloc byte[Libsodium.crypto_scalarmult_BYTES];
        try
        {
            if (!TryDh(recipientKey.Secret, enc, dh))
            {
                return false;
            }

            ExtractAndExpand(dh, enc, recipientKey.PublicKey.Bytes, sharedSecret);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
        }
    }

    /// <summary>
    /// ExtractAndExpand(dh, kem_context) with kem_context = enc || pkRm: binds the shared secret to
    /// both public keys so that a substituted enc or recipient yields an unrelated secret.
    /// </summary>
    private static void ExtractAndExpand(ReadOnlySpan<byte> dh, ReadOnlySpan<byte> enc, ReadOnlySpan<byte> recipientPublicKey, Span<byte> sharedSecret)
    {
        Span<byte> eaePrk = stackalloc byte[HpkeSuite.HashLength];
        Span<byte> kemContext = stackalloc byte[HpkeSuite.EncapsulatedKeyLength + HpkeSuite.PublicKeyLength];
        enc.CopyTo(kemContext);
        recipientPublicKey.CopyTo(kemContext[HpkeSuite.EncapsulatedKeyLength..]);
        try
        {
            HpkeLabeledKdf.LabeledExtract(KemSuiteId, [], "eae_prk"u8, dh, eaePrk);
            HpkeLabeledKdf.LabeledExpand(KemSuiteId, eaePrk, "shared_secret"u8, kemContext, sharedSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(eaePrk);
        }
    }
}
