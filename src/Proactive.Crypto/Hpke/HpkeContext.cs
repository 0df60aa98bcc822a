// References: RFC 9180 section 5.1 (KeySchedule), section 5.2 (Seal/Open, ComputeNonce, IncrementSeq),
// section 5.3 (Export).

using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// What a sender and a recipient share after setup: the AEAD key (held only inside the AEAD
/// object), the base nonce, the exporter secret and the sequence number. Not thread-safe: the
/// sequence number is the message order, so one context belongs to one ordered stream.
/// </summary>
/// <remarks>
/// Security: the exporter secret and base nonce sit in pinned memory and are wiped on
/// <see cref="Dispose()"/>. The sequence number is a <see cref="ulong"/>, so the message limit is
/// 2^64 - 1 rather than RFC 9180's 2^96 - 1; both are out of reach in practice, and the limit is
/// enforced either way so the nonce never repeats.
/// </remarks>
public abstract class HpkeContext : IDisposable
{
    /// <summary>RFC 9180 mode_base.</summary>
    internal const byte ModeBase = 0x00;

    private readonly byte[] _baseNonce;
    private readonly byte[] _exporterSecret;
    private readonly ChaCha20Poly1305? _chaCha;
    private readonly AesGcm? _aesGcm;
    private bool _disposed;

    private protected HpkeContext(HpkeSuite suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> baseNonce, ReadOnlySpan<byte> exporterSecret)
    {
        Debug.Assert(key.Length == suite.KeyLength && baseNonce.Length == HpkeSuite.NonceLength && exporterSecret.Length == HpkeSuite.HashLength);
        Suite = suite;
        _baseNonce = GC.AllocateArray<byte>(HpkeSuite.NonceLength, pinned: true);
        _exporterSecret = GC.AllocateArray<byte>(HpkeSuite.HashLength, pinned: true);
        baseNonce.CopyTo(_baseNonce);
        exporterSecret.CopyTo(_exporterSecret);
        switch (suite.AeadId)
        {
            case HpkeAeadId.ChaCha20Poly1305:
                _chaCha = new ChaCha20Poly1305(key);
                break;
            case HpkeAeadId.Aes128Gcm:
                _aesGcm = new AesGcm(key, HpkeSuite.TagLength);
                break;
            default:
                throw new UnreachableException($"HpkeSuite admitted an AEAD it does not implement: {suite.AeadId}.");
        }
    }

    /// <summary>Wipes the pinned secrets if a caller forgot to dispose.</summary>
    ~HpkeContext() => Dispose(disposing: false);

    /// <summary>The suite this context was set up under.</summary>
    public HpkeSuite Suite { get; }

    /// <summary>How many messages have been sealed or opened so far: the next message's sequence number.</summary>
    public ulong SequenceNumber { get; private protected set; }

    /// <summary>True once no further message can be processed without reusing a nonce.</summary>
    public bool MessageLimitReached => SequenceNumber == ulong.MaxValue;

    /// <summary>
    /// Secret export (RFC 9180 section 5.3): derives further keys bound to this HPKE session without
    /// sending anything. Sender and recipient get the same bytes for the same context and length.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not 1..<see cref="HpkeSuite.MaxExportLength"/>.</exception>
    public byte[] Export(ReadOnlySpan<byte> exporterContext, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, HpkeSuite.MaxExportLength);
        var output = new byte[length];
        Export(exporterContext, output);
        return output;
    }

    /// <summary>Export into a caller's buffer (whose length is L), for secrets that must not land in a fresh array.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is empty or longer than <see cref="HpkeSuite.MaxExportLength"/>.</exception>
    public void Export(ReadOnlySpan<byte> exporterContext, Span<byte> destination)
    {
        if (destination.Length is < 1 or > HpkeSuite.MaxExportLength)
        {
            throw new ArgumentException($"An export is 1 to {HpkeSuite.MaxExportLength} bytes.", nameof(destination));
        }

        ThrowIfDisposed();
        HpkeLabeledKdf.LabeledExpand(Suite.SuiteId, _exporterSecret, "sec"u8, exporterContext, destination);
    }

    /// <summary>Sets the sequence number, so tests can reach the message limit without 2^64 messages.</summary>
    internal void SetSequenceNumberForTesting(ulong value) => SequenceNumber = value;

    /// <summary>
    /// KeySchedule for mode_base (RFC 9180 section 5.1), with psk and psk_id empty. Writes the AEAD
    /// key, base nonce and exporter secret; the caller owns and wipes them.
    /// </summary>
    internal static void KeyScheduleBase(
        HpkeSuite suite,
        ReadOnlySpan<byte> sharedSecret,
        ReadOnlySpan<byte> info,
        Span<byte> key,
        Span<byte> baseNonce,
        Span<byte> exporterSecret)
    {
        Debug.Assert(key.Length == suite.KeyLength && baseNonce.Length == HpkeSuite.NonceLength && exporterSecret.Length == HpkeSuite.HashLength);

        // key_schedule_context = mode || LabeledExtract("", "psk_id_hash", psk_id) || LabeledExtract("", "info_hash", info)
        Span<byte> context = stackalloc byte[1 + (2 * HpkeSuite.HashLength)];
        context[0] = ModeBase;
        HpkeLabeledKdf.LabeledExtract(suite.SuiteId, [], "psk_id_hash"u8, [], context.Slice(1, HpkeSuite.HashLength));
        HpkeLabeledKdf.LabeledExtract(suite.SuiteId, [], "info_hash"u8, info, context[(1 + HpkeSuite.HashLength)..]);

        Span<byte> secret = stackalloc byte[HpkeSuite.HashLength];
        try
        {
            // secret = LabeledExtract(shared_secret, "secret", psk), psk = "" in mode_base.
            HpkeLabeledKdf.LabeledExtract(suite.SuiteId, sharedSecret, "secret"u8, [], secret);
            HpkeLabeledKdf.LabeledExpand(suite.SuiteId, secret, "key"u8, context, key);
            HpkeLabeledKdf.LabeledExpand(suite.SuiteId, secret, "base_nonce"u8, context, baseNonce);
            HpkeLabeledKdf.LabeledExpand(suite.SuiteId, secret, "exp"u8, context, exporterSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>AEAD encryption under the current nonce; the caller checks the limit and advances the sequence.</summary>
    private protected void EncryptCore(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Debug.Assert(ciphertext.Length == plaintext.Length + HpkeSuite.TagLength);
        ThrowIfDisposed();
        Span<byte> nonce = stackalloc byte[HpkeSuite.NonceLength];
        ComputeNonce(nonce);
        var body = ciphertext[..plaintext.Length];
        var tag = ciphertext[plaintext.Length..];
        if (_chaCha is not null)
        {
            _chaCha.Encrypt(nonce, plaintext, body, tag, aad);
        }
        else
        {
            _aesGcm!.Encrypt(nonce, plaintext, body, tag, aad);
        }
    }

    /// <summary>AEAD decryption under the current nonce; false (and a wiped destination) on a bad tag.</summary>
    private protected bool TryDecryptCore(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Debug.Assert(ciphertext.Length == plaintext.Length + HpkeSuite.TagLength);
        ThrowIfDisposed();
        Span<byte> nonce = stackalloc byte[HpkeSuite.NonceLength];
        ComputeNonce(nonce);
        var body = ciphertext[..plaintext.Length];
        var tag = ciphertext[plaintext.Length..];
        try
        {
            if (_chaCha is not null)
            {
                _chaCha.Decrypt(nonce, body, tag, plaintext, aad);
            }
            else
            {
                _aesGcm!.Decrypt(nonce, body, tag, plaintext, aad);
            }

            return true;
        }
        catch (CryptographicException)
        {
            // AuthenticationTagMismatchException derives from CryptographicException: a forged or
            // corrupted message is data, not a bug, so it becomes false.
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
    }

    /// <summary>ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn); the sequence fits in the last 8 bytes.</summary>
    private void ComputeNonce(Span<byte> nonce)
    {
        _baseNonce.CopyTo(nonce);
        var tail = nonce[(HpkeSuite.NonceLength - sizeof(ulong))..];
        var mixed = BinaryPrimitives.ReadUInt64BigEndian(tail) ^ SequenceNumber;
        BinaryPrimitives.WriteUInt64BigEndian(tail, mixed);
    }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Wipes the base nonce and exporter secret and releases the AEAD key.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Standard dispose pattern, so a subclass cannot forget to wipe.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(_baseNonce);
        CryptographicOperations.ZeroMemory(_exporterSecret);
        if (disposing)
        {
            _chaCha?.Dispose();
            _aesGcm?.Dispose();
        }

        _disposed = true;
    }
}

/// <summary>
/// The sender's side of an HPKE session (RFC 9180 section 5.2, ContextS): seals messages in order.
/// </summary>
public sealed class HpkeSenderContext : HpkeContext
{
    internal HpkeSenderContext(HpkeSuite suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> baseNonce, ReadOnlySpan<byte> exporterSecret)
        : base(suite, key, baseNonce, exporterSecret)
    {
    }

    /// <summary>Seals the next message; the recipient must open messages in the same order.</summary>
    /// <exception cref="InvalidOperationException">The message limit is reached (<see cref="HpkeContext.MessageLimitReached"/>); set up a new context.</exception>
    public byte[] Seal(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext)
    {
        var ciphertext = new byte[plaintext.Length + HpkeSuite.TagLength];
        Seal(aad, plaintext, ciphertext);
        return ciphertext;
    }

    /// <summary>Seals the next message into a caller's buffer of exactly plaintext + 16 bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="ciphertext"/> has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The message limit is reached; set up a new context.</exception>
    public void Seal(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        if (ciphertext.Length != plaintext.Length + HpkeSuite.TagLength)
        {
            throw new ArgumentException($"The ciphertext buffer must be plaintext length + {HpkeSuite.TagLength} bytes.", nameof(ciphertext));
        }

        ThrowIfDisposed();
        if (MessageLimitReached)
        {
            // RFC 9180 MessageLimitReachedError: sealing again would reuse a nonce.
            throw new InvalidOperationException("HPKE message limit reached: this context can seal no more messages.");
        }

        EncryptCore(aad, plaintext, ciphertext);
        SequenceNumber++;
    }
}

/// <summary>
/// The recipient's side of an HPKE session (RFC 9180 section 5.2, ContextR): opens messages in the
/// order they were sealed. A message that fails to open does not advance the sequence number, so a
/// forged message cannot desynchronize the stream.
/// </summary>
public sealed class HpkeRecipientContext : HpkeContext
{
    internal HpkeRecipientContext(HpkeSuite suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> baseNonce, ReadOnlySpan<byte> exporterSecret)
        : base(suite, key, baseNonce, exporterSecret)
    {
    }

    /// <summary>
    /// Opens the next message. False, without throwing, for anything an attacker controls: a
    /// ciphertext shorter than the tag, a wrong tag, the wrong aad, an out-of-order message, or
    /// the message limit.
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext, [NotNullWhen(true)] out byte[]? plaintext)
    {
        plaintext = null;
        if (ciphertext.Length < HpkeSuite.TagLength)
        {
            return false;
        }

        var buffer = new byte[ciphertext.Length - HpkeSuite.TagLength];
        if (!TryOpen(aad, ciphertext, buffer))
        {
            return false;
        }

        plaintext = buffer;
        return true;
    }

    /// <summary>
    /// Opens the next message into a caller's buffer of exactly ciphertext - 16 bytes; false for
    /// the same untrusted-data failures as <see cref="TryOpen(ReadOnlySpan{byte}, ReadOnlySpan{byte}, out byte[])"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="plaintext"/> has the wrong length for a ciphertext that is at least a tag long.</exception>
    public bool TryOpen(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (ciphertext.Length < HpkeSuite.TagLength)
        {
            return false;
        }

        if (plaintext.Length != ciphertext.Length - HpkeSuite.TagLength)
        {
            throw new ArgumentException($"The plaintext buffer must be ciphertext length - {HpkeSuite.TagLength} bytes.", nameof(plaintext));
        }

        ThrowIfDisposed();
        if (MessageLimitReached || !TryDecryptCore(aad, ciphertext, plaintext))
        {
            return false;
        }

        SequenceNumber++;
        return true;
    }
}
