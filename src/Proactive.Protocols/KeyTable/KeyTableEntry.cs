// References: toolkit paper (seed 001) section 4.1 and Table 1 ("Refresh Protocol for period t",
// steps 1-3: generate (S_i(t), V_i(t)) and (E_i(t), D_i(t)), broadcast K_i signed with S_i(t-1) when
// available; remark 1: a recovering server sends K_i "in the clear"); docs/BRIEF.md section 3
// "Refresh for period p" (K_i also carries the TLS certificate).
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Envelopes;

namespace Proactive.Protocols.KeyTable;

/// <summary>
/// K_i for period p: the server's new public keys V_i(p), E_i(p) (<see cref="PeriodPublicKeys"/>) and the
/// SHA-256 fingerprint of the TLS certificate it will serve in the period. This is what the KeyTable
/// lists and what a server looks for, byte for byte, in the decided table (Table 1, remark 3).
/// </summary>
/// <remarks>
/// Encoding (<see cref="EncodedLength"/> = 108 bytes): version u8 (<see cref="FormatVersion"/>),
/// <see cref="PeriodPublicKeys"/> (75 bytes: its own version, server id, period, V_i(p), E_i(p)),
/// TLS fingerprint (32 bytes, opaque here). No group is involved, so there is no suite byte.
/// </remarks>
public sealed class KeyTableEntry : IEquatable<KeyTableEntry>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Length of a TLS certificate fingerprint (SHA-256 of the DER certificate).</summary>
    public const int FingerprintLength = 32;

    /// <summary>Length of the canonical encoding.</summary>
    public const int EncodedLength = 1 + PeriodPublicKeys.EncodedLength + FingerprintLength;

    private readonly byte[] _fingerprint;

    /// <summary>Builds K_i from keys and a fingerprint the caller vouches for.</summary>
    /// <exception cref="ArgumentException"><paramref name="tlsCertificateFingerprint"/> is not 32 bytes.</exception>
    public KeyTableEntry(PeriodPublicKeys keys, ReadOnlySpan<byte> tlsCertificateFingerprint)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (tlsCertificateFingerprint.Length != FingerprintLength)
        {
            throw new ArgumentException($"A TLS certificate fingerprint is {FingerprintLength} bytes.", nameof(tlsCertificateFingerprint));
        }

        Keys = keys;
        _fingerprint = tlsCertificateFingerprint.ToArray();
    }

    /// <summary>V_i(p) and E_i(p), with the server id and the period.</summary>
    public PeriodPublicKeys Keys { get; }

    /// <summary>The server i.</summary>
    public int ServerId => Keys.ServerId;

    /// <summary>The period p.</summary>
    public ulong Period => Keys.Period;

    /// <summary>SHA-256 of the TLS certificate the server presents in period p (peers pin it).</summary>
    public ReadOnlySpan<byte> TlsCertificateFingerprint => _fingerprint;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var writer = new CanonicalWriter(bytes);
        WriteTo(ref writer);
        return bytes;
    }

    /// <summary>Writes the canonical encoding (for the signed entry that embeds it).</summary>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        Keys.WriteTo(ref writer);
        writer.WriteFixedBytes(_fingerprint);
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out KeyTableEntry? entry)
    {
        var reader = new CanonicalReader(encoding);
        if (!TryRead(ref reader, out entry) || !reader.TryReadEnd())
        {
            entry = null;
            return false;
        }

        return true;
    }

    /// <summary>Reads one entry and leaves the reader after it; on failure the reader holds the reason.</summary>
    public static bool TryRead(ref CanonicalReader reader, [NotNullWhen(true)] out KeyTableEntry? entry)
    {
        entry = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        if (!PeriodPublicKeys.TryRead(ref reader, out var keys) ||
            !reader.TryReadFixedBytes(FingerprintLength, out var fingerprint, "tls_fingerprint"))
        {
            return false;
        }

        entry = new KeyTableEntry(keys, fingerprint);
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(KeyTableEntry? other) =>
        other is not null && Keys.Equals(other.Keys) && _fingerprint.AsSpan().SequenceEqual(other._fingerprint);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as KeyTableEntry);

    /// <inheritdoc/>
    public override int GetHashCode() => Keys.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"{Keys} tls:{Convert.ToHexStringLower(_fingerprint)}";
}

/// <summary>
/// K_i as broadcast and as listed in the KeyTable: signed with the new key S_i(p) (proof that the
/// sender holds it) and, when the server still has it, with its previous key S_i(p-1) (Table 1,
/// step 3: the signature that authenticates K_i as the server's own). An entry without the second
/// signature is the paper's "in the clear" message of a recovering server: anyone could have made it.
/// </summary>
/// <remarks>
/// <para>Both signatures are Ed25519 over <c>"proactive-keytable-entry-v1" || role || network id (16) || K_i</c>
/// with role 1 for the new key and 2 for the previous one, so neither signature can be taken for the
/// other, and an entry of one network is never accepted in another.</para>
/// <para>Encoding: version u8 (<see cref="FormatVersion"/>), <see cref="KeyTableEntry"/> (108 bytes),
/// signature count u8 (1 or 2), the new-key signature (64 bytes), then the previous-key signature
/// (64 bytes) when the count is 2. One encoding per entry: the count says exactly what follows.</para>
/// </remarks>
public sealed class SignedKeyTableEntry
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Longest encoding (both signatures).</summary>
    public const int MaxEncodedLength = 1 + KeyTableEntry.EncodedLength + 1 + (2 * Ed25519PublicKey.SignatureLength);

    /// <summary>Shortest encoding (new-key signature only).</summary>
    public const int MinEncodedLength = MaxEncodedLength - Ed25519PublicKey.SignatureLength;

    private const byte NewKeyRole = 1;
    private const byte PreviousKeyRole = 2;
    private static readonly byte[] SignatureLabel = "proactive-keytable-entry-v1"u8.ToArray();

    private readonly byte[] _newKeySignature;
    private readonly byte[]? _previousKeySignature;

    private SignedKeyTableEntry(KeyTableEntry entry, byte[] newKeySignature, byte[]? previousKeySignature)
    {
        Entry = entry;
        _newKeySignature = newKeySignature;
        _previousKeySignature = previousKeySignature;
    }

    /// <summary>K_i.</summary>
    public KeyTableEntry Entry { get; }

    /// <summary>The server i.</summary>
    public int ServerId => Entry.ServerId;

    /// <summary>Signature by S_i(p), the key K_i announces.</summary>
    public ReadOnlySpan<byte> NewKeySignature => _newKeySignature;

    /// <summary>True when the entry carries a signature by S_i(p-1) (not yet verified).</summary>
    public bool HasPreviousKeySignature => _previousKeySignature is not null;

    /// <summary>Signature by S_i(p-1); empty for an entry sent in the clear.</summary>
    public ReadOnlySpan<byte> PreviousKeySignature => _previousKeySignature;

    /// <summary>
    /// Signs K_i with the new key (which must be the one K_i announces) and, when given, the previous
    /// key. The keys are only used, never kept.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="newKey"/> is not V_i(p) of <paramref name="entry"/>.</exception>
    public static SignedKeyTableEntry Create(KeyTableEntry entry, NetworkId network, Ed25519PrivateKey newKey, Ed25519PrivateKey? previousKey)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(newKey);
        if (!newKey.PublicKey.Equals(entry.Keys.Signing))
        {
            throw new ArgumentException("K_i must be signed with the new key it announces.", nameof(newKey));
        }

        return new SignedKeyTableEntry(
            entry,
            newKey.Sign(SignedMessage(entry, network, NewKeyRole)),
            previousKey?.Sign(SignedMessage(entry, network, PreviousKeyRole)));
    }

    /// <summary>
    /// Builds an entry from parts without checking the signatures (for adversary models in tests and
    /// for re-assembling stored entries); <see cref="VerifyNewKeySignature"/> is what makes it trustworthy.
    /// </summary>
    /// <exception cref="ArgumentException">A signature is not 64 bytes.</exception>
    public static SignedKeyTableEntry FromParts(KeyTableEntry entry, ReadOnlySpan<byte> newKeySignature, ReadOnlySpan<byte> previousKeySignature)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (newKeySignature.Length != Ed25519PublicKey.SignatureLength ||
            (previousKeySignature.Length != 0 && previousKeySignature.Length != Ed25519PublicKey.SignatureLength))
        {
            throw new ArgumentException("Signatures are 64 bytes (the previous-key one may be absent).");
        }

        return new SignedKeyTableEntry(entry, newKeySignature.ToArray(), previousKeySignature.Length == 0 ? null : previousKeySignature.ToArray());
    }

    /// <summary>This entry without its previous-key signature (what a relay that strips it would send).</summary>
    public SignedKeyTableEntry WithoutPreviousKeySignature() => new(Entry, _newKeySignature, null);

    /// <summary>True iff the new-key signature verifies under the key K_i announces: the sender holds S_i(p).</summary>
    public bool VerifyNewKeySignature(NetworkId network) =>
        Entry.Keys.Signing.Verify(SignedMessage(Entry, network, NewKeyRole), _newKeySignature);

    /// <summary>
    /// True iff the entry carries a previous-key signature and it verifies under
    /// <paramref name="previousKey"/> = V_i(p-1): K_i is then authenticated as server i's (Table 1, step 3).
    /// </summary>
    public bool VerifyPreviousKeySignature(NetworkId network, Ed25519PublicKey previousKey)
    {
        ArgumentNullException.ThrowIfNull(previousKey);
        return _previousKeySignature is not null &&
            previousKey.Verify(SignedMessage(Entry, network, PreviousKeyRole), _previousKeySignature);
    }

    /// <summary>Length of <see cref="Encode"/>.</summary>
    public int EncodedLength => HasPreviousKeySignature ? MaxEncodedLength : MinEncodedLength;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var writer = new CanonicalWriter(bytes);
        WriteTo(ref writer);
        return bytes;
    }

    /// <summary>Writes the canonical encoding (for the KeyTable that lists it).</summary>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        Entry.WriteTo(ref writer);
        writer.WriteU8(HasPreviousKeySignature ? (byte)2 : (byte)1);
        writer.WriteFixedBytes(_newKeySignature);
        if (_previousKeySignature is not null)
        {
            writer.WriteFixedBytes(_previousKeySignature);
        }
    }

    /// <summary>Decodes untrusted bytes (structure only, signatures unchecked); never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SignedKeyTableEntry? entry, out CodecFailure failure)
        => CanonicalEncoding.TryDecodeWith(encoding, TryRead, out entry, out failure);

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SignedKeyTableEntry? entry) =>
        TryDecode(encoding, out entry, out _);

    /// <summary>Reads one signed entry and leaves the reader after it; on failure the reader holds the reason.</summary>
    public static bool TryRead(ref CanonicalReader reader, [NotNullWhen(true)] out SignedKeyTableEntry? entry)
    {
        entry = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        if (!KeyTableEntry.TryRead(ref reader, out var body))
        {
            return false;
        }

        var countOffset = reader.Offset;
        if (!reader.TryReadU8(out var count, "signature_count"))
        {
            return false;
        }

        if (count is not (1 or 2))
        {
            return reader.Fail(CodecError.InvalidValue, countOffset, "signature_count");
        }

        if (!reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var newSignature, "new_key_signature"))
        {
            return false;
        }

        byte[]? previous = null;
        if (count == 2)
        {
            if (!reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var previousSignature, "previous_key_signature"))
            {
                return false;
            }

            previous = previousSignature.ToArray();
        }

        entry = new SignedKeyTableEntry(body, newSignature.ToArray(), previous);
        return true;
    }

    /// <summary>Byte equality of the canonical encodings.</summary>
    public bool SameBytes(SignedKeyTableEntry other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Encode().AsSpan().SequenceEqual(other.Encode());
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Entry} ({(HasPreviousKeySignature ? "doubly signed" : "in the clear")})";

    private static byte[] SignedMessage(KeyTableEntry entry, NetworkId network, byte role)
    {
        var message = new byte[SignatureLabel.Length + 1 + NetworkId.Length + KeyTableEntry.EncodedLength];
        SignatureLabel.CopyTo(message, 0);
        message[SignatureLabel.Length] = role;
        network.WriteTo(message.AsSpan(SignatureLabel.Length + 1, NetworkId.Length));
        var writer = new CanonicalWriter(message.AsSpan(SignatureLabel.Length + 1 + NetworkId.Length));
        entry.WriteTo(ref writer);
        return message;
    }
}
