// References: RFC 9180 section 7 (algorithm identifiers), section 5.1 (suite_id), section 4.1 (KEM suite_id).

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Proactive.Crypto.Hpke;

/// <summary>RFC 9180 section 7.1 KEM identifiers. Only DHKEM(X25519, HKDF-SHA256) is implemented.</summary>
public enum HpkeKemId : ushort
{
    /// <summary>DHKEM(X25519, HKDF-SHA256): Nsecret 32, Nenc 32, Npk 32, Nsk 32.</summary>
    DhkemX25519HkdfSha256 = 0x0020,
}

/// <summary>RFC 9180 section 7.2 KDF identifiers. Only HKDF-SHA256 is implemented.</summary>
public enum HpkeKdfId : ushort
{
    /// <summary>HKDF-SHA256: Nh 32.</summary>
    HkdfSha256 = 0x0001,
}

/// <summary>RFC 9180 section 7.3 AEAD identifiers that Proactive implements.</summary>
public enum HpkeAeadId : ushort
{
    /// <summary>AES-128-GCM: Nk 16, Nn 12, Nt 16.</summary>
    Aes128Gcm = 0x0001,

    /// <summary>ChaCha20-Poly1305: Nk 32, Nn 12, Nt 16.</summary>
    ChaCha20Poly1305 = 0x0003,
}

/// <summary>
/// An HPKE ciphersuite (KEM, KDF, AEAD). Only the instances below exist, so a suite obtained from
/// this type is always one we implement and reference equality is suite equality.
/// </summary>
/// <remarks>
/// The suite is bound into every derived key (RFC 9180 section 5.1, <c>suite_id</c>), so a
/// ciphertext made under one suite never opens under another.
/// </remarks>
public sealed class HpkeSuite
{
    /// <summary>DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305: the default, constant-time in software everywhere.</summary>
    public static HpkeSuite X25519Sha256ChaCha20Poly1305 { get; } = new(HpkeAeadId.ChaCha20Poly1305, keyLength: 32);

    /// <summary>DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM: for peers that want AES hardware.</summary>
    public static HpkeSuite X25519Sha256Aes128Gcm { get; } = new(HpkeAeadId.Aes128Gcm, keyLength: 16);

    /// <summary>Every implemented suite, so tests and registries can run over all of them.</summary>
    public static IReadOnlyList<HpkeSuite> All { get; } = [X25519Sha256ChaCha20Poly1305, X25519Sha256Aes128Gcm];

    /// <summary>Nenc = Npk = Nsk = Nsecret for DHKEM(X25519, HKDF-SHA256).</summary>
    public const int EncapsulatedKeyLength = 32;

    /// <summary>Npk for X25519.</summary>
    public const int PublicKeyLength = 32;

    /// <summary>Nsk for X25519.</summary>
    public const int PrivateKeyLength = 32;

    /// <summary>Nn for both implemented AEADs.</summary>
    public const int NonceLength = 12;

    /// <summary>Nt for both implemented AEADs.</summary>
    public const int TagLength = 16;

    /// <summary>Nh of HKDF-SHA256, also the length of the exporter secret.</summary>
    internal const int HashLength = 32;

    /// <summary>HKDF-Expand can produce at most 255 * Nh bytes (RFC 5869 section 2.3).</summary>
    public const int MaxExportLength = 255 * HashLength;

    private readonly byte[] _suiteId;

    private HpkeSuite(HpkeAeadId aead, int keyLength)
    {
        AeadId = aead;
        KeyLength = keyLength;
        // suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2) (RFC 9180 section 5.1).
        _suiteId = new byte[10];
        "HPKE"u8.CopyTo(_suiteId);
        BinaryPrimitives.WriteUInt16BigEndian(_suiteId.AsSpan(4), (ushort)KemId);
        BinaryPrimitives.WriteUInt16BigEndian(_suiteId.AsSpan(6), (ushort)KdfId);
        BinaryPrimitives.WriteUInt16BigEndian(_suiteId.AsSpan(8), (ushort)AeadId);
    }

    /// <summary>The KEM; always DHKEM(X25519, HKDF-SHA256) here.</summary>
    public HpkeKemId KemId => HpkeKemId.DhkemX25519HkdfSha256;

    /// <summary>The KDF; always HKDF-SHA256 here.</summary>
    public HpkeKdfId KdfId => HpkeKdfId.HkdfSha256;

    /// <summary>The AEAD that protects messages.</summary>
    public HpkeAeadId AeadId { get; }

    /// <summary>Nk, the AEAD key length.</summary>
    public int KeyLength { get; }

    /// <summary>The 10-byte <c>suite_id</c> of the key schedule and exporter.</summary>
    internal ReadOnlySpan<byte> SuiteId => _suiteId;

    /// <summary>
    /// Looks up a suite by its wire identifiers; false for any combination we do not implement,
    /// so that identifiers read from untrusted bytes never throw.
    /// </summary>
    public static bool TryGet(ushort kemId, ushort kdfId, ushort aeadId, [NotNullWhen(true)] out HpkeSuite? suite)
    {
        suite = null;
        if (kemId != (ushort)HpkeKemId.DhkemX25519HkdfSha256 || kdfId != (ushort)HpkeKdfId.HkdfSha256)
        {
            return false;
        }

        suite = aeadId switch
        {
            (ushort)HpkeAeadId.ChaCha20Poly1305 => X25519Sha256ChaCha20Poly1305,
            (ushort)HpkeAeadId.Aes128Gcm => X25519Sha256Aes128Gcm,
            _ => null,
        };
        return suite is not null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"HPKE(kem=0x{(ushort)KemId:x4}, kdf=0x{(ushort)KdfId:x4}, aead=0x{(ushort)AeadId:x4})";
}
