// References: toolkit paper (seed 001) Table 1 (refresh for period p: new (S_i(p), V_i(p)) and
// (E_i(p), D_i(p)), broadcast K_i); docs/BRIEF.md section 2 (server signing keys per period:
// Ed25519; encryption to a server: HPKE base mode, DHKEM(X25519, HKDF-SHA256)).

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// One server's secret keys for one period: the Ed25519 key S_i(p) that signs its envelopes and the
/// HPKE key D_i(p) that opens what others encrypt to it (toolkit Table 1). A new pair each period
/// means that keys stolen in one period neither sign nor decrypt traffic of another.
/// </summary>
/// <remarks>
/// Security: owns both private keys and wipes them on <see cref="Dispose"/>; the node erases a
/// period's keys once the next period's refresh has committed. <see cref="ToString"/> prints
/// <c>&lt;redacted&gt;</c>.
/// </remarks>
public sealed class PeriodKeys : IDisposable
{
    private PeriodKeys(int serverId, ulong period, Ed25519PrivateKey signing, HpkePrivateKey encryption)
    {
        ServerId = serverId;
        Period = period;
        Signing = signing;
        Encryption = encryption;
        PublicKeys = new PeriodPublicKeys(serverId, period, signing.PublicKey, encryption.PublicKey);
    }

    /// <summary>The server these keys belong to, 1..65535.</summary>
    public int ServerId { get; }

    /// <summary>The period they are valid in.</summary>
    public ulong Period { get; }

    /// <summary>S_i(p): signs this server's envelopes of the period.</summary>
    public Ed25519PrivateKey Signing { get; }

    /// <summary>D_i(p): opens confidential envelopes sent to this server in the period.</summary>
    public HpkePrivateKey Encryption { get; }

    /// <summary>K_i: what the other servers need, published through the KeyTable.</summary>
    public PeriodPublicKeys PublicKeys { get; }

    /// <summary>
    /// Fresh keys for <paramref name="serverId"/> in <paramref name="period"/>: 32 bytes of
    /// <paramref name="random"/> for the Ed25519 seed, then 32 for the HPKE key, so a seeded source
    /// gives reproducible keys in the simulator.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="serverId"/> is not 1..65535.</exception>
    public static PeriodKeys Generate(int serverId, ulong period, IRandomSource random)
    {
        PeriodPublicKeys.CheckServerId(serverId);
        ArgumentNullException.ThrowIfNull(random);
        var signing = Ed25519PrivateKey.Generate(random);
        try
        {
            return new PeriodKeys(serverId, period, signing, HpkePrivateKey.Generate(random));
        }
        catch
        {
            signing.Dispose();
            throw;
        }
    }

    /// <summary>Rebuilds keys from storage; takes ownership of both private keys.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="serverId"/> is not 1..65535.</exception>
    public static PeriodKeys FromKeys(int serverId, ulong period, Ed25519PrivateKey signing, HpkePrivateKey encryption)
    {
        PeriodPublicKeys.CheckServerId(serverId);
        ArgumentNullException.ThrowIfNull(signing);
        ArgumentNullException.ThrowIfNull(encryption);
        return new PeriodKeys(serverId, period, signing, encryption);
    }

    /// <inheritdoc/>
    public override string ToString() => "<redacted>";

    /// <summary>Wipes both private keys.</summary>
    public void Dispose()
    {
        Signing.Dispose();
        Encryption.Dispose();
    }
}

/// <summary>
/// K_i for one period: the public halves of <see cref="PeriodKeys"/>, bound to the server and the
/// period they belong to, with one canonical encoding so that the KeyTable can sign a list of them.
/// </summary>
/// <remarks>
/// <para>Encoding (<see cref="EncodedLength"/> = 75 bytes): format version u8 (<see cref="FormatVersion"/>),
/// server id u16, period u64, Ed25519 public key (32 bytes), X25519 public key (32 bytes). There is
/// no suite byte: both key types are fixed by the version, and no prime-order group is involved.</para>
/// <para>Decoding rejects an Ed25519 key that is not a prime-order point (so a peer cannot register
/// the identity or a small-order key). Any 32 bytes decode as an X25519 key (RFC 9180 section 7.1.1);
/// a small-order one is caught when a sender tries to encrypt to it.</para>
/// </remarks>
public sealed class PeriodPublicKeys : IEquatable<PeriodPublicKeys>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Length of the canonical encoding.</summary>
    public const int EncodedLength = 1 + 2 + 8 + Ed25519PublicKey.Length + HpkeSuite.PublicKeyLength;

    /// <summary>Builds K_i from keys the caller vouches for.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="serverId"/> is not 1..65535.</exception>
    public PeriodPublicKeys(int serverId, ulong period, Ed25519PublicKey signing, HpkePublicKey encryption)
    {
        CheckServerId(serverId);
        ArgumentNullException.ThrowIfNull(signing);
        ArgumentNullException.ThrowIfNull(encryption);
        ServerId = serverId;
        Period = period;
        Signing = signing;
        Encryption = encryption;
    }

    /// <summary>The server, 1..65535.</summary>
    public int ServerId { get; }

    /// <summary>The period.</summary>
    public ulong Period { get; }

    /// <summary>V_i(p): verifies the server's envelopes of the period.</summary>
    public Ed25519PublicKey Signing { get; }

    /// <summary>E_i(p): what senders encrypt confidential payloads to.</summary>
    public HpkePublicKey Encryption { get; }

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var writer = new CanonicalWriter(bytes);
        WriteTo(ref writer);
        return bytes;
    }

    /// <summary>Writes the canonical encoding, for structures (the KeyTable) that embed it.</summary>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        writer.WriteU16((ushort)ServerId);
        writer.WriteU64(Period);
        writer.WriteFixedBytes(Signing.Bytes);
        writer.WriteFixedBytes(Encryption.Bytes);
    }

    /// <summary>Decodes untrusted bytes; never throws. The failure says what, where, and in which field.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out PeriodPublicKeys? keys, out CodecFailure failure)
        => CanonicalEncoding.TryDecodeWith(encoding, TryRead, out keys, out failure);

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out PeriodPublicKeys? keys) =>
        TryDecode(encoding, out keys, out _);

    /// <summary>Reads one entry and leaves the reader after it; on failure the reader holds the reason.</summary>
    public static bool TryRead(ref CanonicalReader reader, [NotNullWhen(true)] out PeriodPublicKeys? keys)
    {
        keys = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        var serverOffset = reader.Offset;
        if (!reader.TryReadU16(out var serverId, "server_id") || !reader.TryReadU64(out var period, "period"))
        {
            return false;
        }

        if (serverId == 0)
        {
            return reader.Fail(CodecError.InvalidValue, serverOffset, "server_id");
        }

        var signingOffset = reader.Offset;
        if (!reader.TryReadFixedBytes(Ed25519PublicKey.Length, out var signingBytes, "signing_key"))
        {
            return false;
        }

        if (!Ed25519PublicKey.TryDecode(signingBytes, out var signing))
        {
            return reader.Fail(CodecError.InvalidElement, signingOffset, "signing_key");
        }

        if (!reader.TryReadFixedBytes(HpkeSuite.PublicKeyLength, out var encryptionBytes, "encryption_key"))
        {
            return false;
        }

        keys = new PeriodPublicKeys(serverId, period, signing, HpkePublicKey.Decode(encryptionBytes));
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(PeriodPublicKeys? other) =>
        other is not null && ServerId == other.ServerId && Period == other.Period && Signing.Equals(other.Signing) && Encryption.Equals(other.Encryption);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PeriodPublicKeys);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ServerId, Period, Signing);

    /// <inheritdoc/>
    public override string ToString() => $"K_{ServerId}(p{Period}) {Signing} {Encryption}";

    internal static void CheckServerId(int serverId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(serverId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serverId, ushort.MaxValue);
    }
}
