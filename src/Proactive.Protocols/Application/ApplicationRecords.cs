// References: toolkit (seed 001) section 5.1 (registration by name and unique id, by password, by
// certificate; quotas) and section 5.2, Table 4 (the data types); docs/API.md "Applications".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;

namespace Proactive.Protocols.Application;

/// <summary>How an application was registered (toolkit 5.1).</summary>
public enum ApplicationKind : byte
{
    /// <summary>One client: <c>Reg(name, uniqueId)</c>; its only instance is 0.</summary>
    Centralized = 1,

    /// <summary>One instance per server, registered by the same (name, password); quorum operations need a majority of the n instances.</summary>
    DistributedPassword = 2,

    /// <summary>
    /// One instance per server, each registered with its own one-time certificate from the application's
    /// Certificate Authority (toolkit 5.1 option 2, <see cref="ApplicationCertificate"/>); quorum operations
    /// as for <see cref="DistributedPassword"/>.
    /// </summary>
    DistributedCertificate = 3,
}

/// <summary>The five data types of toolkit Table 4.</summary>
public enum DataType : byte
{
    /// <summary>Public, write-once.</summary>
    PublicWriteOnce = 1,

    /// <summary>Public, read/write: writes need a quorum of the application's instances.</summary>
    PublicReadWrite = 2,

    /// <summary>Secret, single writer/reader: dealt by the client, reconstructed only by the owner.</summary>
    SecretSingle = 3,

    /// <summary>Secret, single writer/distributed reader: dealt by the client, reconstructed only when a quorum of instances asks.</summary>
    SecretDistributedReader = 4,

    /// <summary>Secret, distributed writer/distributed reader: written and read by a quorum of instances.</summary>
    SecretDistributed = 5,
}

/// <summary>An application's limits and use.</summary>
/// <param name="MaxEntries">Most data entries it may hold.</param>
/// <param name="MaxBytes">Most bytes of values (public values and secret ciphertexts) it may hold.</param>
public sealed record ApplicationQuota(ulong MaxEntries, ulong MaxBytes)
{
    /// <summary>What an application gets unless it asks for less.</summary>
    public static ApplicationQuota Default { get; } = new(250_000, 512UL * 1024 * 1024);
}

/// <summary>One registered application, as every server stores it.</summary>
/// <remarks>
/// Encoding, version 1: u8 version, 16-byte id, string name, u8 kind, bool has-check then the 32-byte
/// registration check (present exactly for the distributed kinds: the password check or the CA key), u64
/// max entries, u64 max bytes, u64 registered period, u64 used entries, u64 used bytes, then the instances
/// (u32 count, each u16 instance and its 32-byte key).
/// </remarks>
public sealed class ApplicationRecord
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Longest name in UTF-8 bytes.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Application id length.</summary>
    public const int IdLength = 16;

    /// <summary>Instance key length (Ed25519).</summary>
    public const int KeyLength = 32;

    /// <summary>Password check length (SHA-256 of the client's password verifier).</summary>
    public const int PasswordCheckLength = 32;

    /// <summary>Length of the registration check a distributed application is created with: a password check or a CA key.</summary>
    public const int RegistrationCheckLength = 32;

    private readonly byte[]? _registrationCheck;

    /// <param name="id">The application id.</param>
    /// <param name="name">Its name.</param>
    /// <param name="kind">How its instances register.</param>
    /// <param name="registrationCheck">
    /// What every further instance's registration is checked against, fixed by the first one: the SHA-256
    /// of the password verifier (<see cref="ApplicationKind.DistributedPassword"/>) or the CA's Ed25519
    /// public key (<see cref="ApplicationKind.DistributedCertificate"/>); null for a centralized application.
    /// </param>
    /// <param name="quota">Its quota.</param>
    /// <param name="registeredPeriod">The ledger period of its first registration.</param>
    public ApplicationRecord(byte[] id, string name, ApplicationKind kind, byte[]? registrationCheck, ApplicationQuota quota, ulong registeredPeriod)
    {
        Id = id;
        Name = name;
        Kind = kind;
        _registrationCheck = registrationCheck;
        Quota = quota;
        RegisteredPeriod = registeredPeriod;
    }

    public byte[] Id { get; }

    public string IdHex => Convert.ToHexStringLower(Id);

    public string Name { get; }

    public ApplicationKind Kind { get; }

    /// <summary>SHA-256 of the password verifier (password-registered applications), checked on every further instance's registration.</summary>
    public byte[]? PasswordCheck => Kind == ApplicationKind.DistributedPassword ? _registrationCheck : null;

    /// <summary>The Ed25519 key of the CA whose certificates register the instances (certificate-registered applications).</summary>
    public byte[]? CertificateAuthority => Kind == ApplicationKind.DistributedCertificate ? _registrationCheck : null;

    public ApplicationQuota Quota { get; }

    public ulong RegisteredPeriod { get; }

    /// <summary>Instance number to its Ed25519 public key.</summary>
    public SortedDictionary<int, byte[]> Instances { get; } = [];

    /// <summary>Data entries held.</summary>
    public ulong UsedEntries { get; set; }

    /// <summary>Bytes of values held.</summary>
    public ulong UsedBytes { get; set; }

    /// <summary>How many instances must ask for a quorum operation: 1 for a centralized application, a majority of the n servers' instances otherwise.</summary>
    public int Quorum(int serverCount) => Kind == ApplicationKind.Centralized ? 1 : (serverCount / 2) + 1;

    /// <summary>The handle of instance <paramref name="instance"/>.</summary>
    public string HandleOf(int instance) => Handles.Format(Id, instance);

    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(256);
        var writer = new CanonicalWriter(output);
        writer.WriteU8(FormatVersion);
        writer.WriteFixedBytes(Id);
        writer.WriteString(Name, MaxNameLength);
        writer.WriteU8((byte)Kind);
        writer.WriteBool(_registrationCheck is not null);
        if (_registrationCheck is not null)
        {
            writer.WriteFixedBytes(_registrationCheck);
        }

        writer.WriteU64(Quota.MaxEntries);
        writer.WriteU64(Quota.MaxBytes);
        writer.WriteU64(RegisteredPeriod);
        writer.WriteU64(UsedEntries);
        writer.WriteU64(UsedBytes);
        writer.WriteCount(Instances.Count, Cluster.ClusterParameters.MaxServers + 1);
        foreach (var (instance, key) in Instances)
        {
            writer.WriteU16((ushort)instance);
            writer.WriteFixedBytes(key);
        }

        return output.WrittenSpan.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out ApplicationRecord? record)
    {
        record = null;
        var reader = new CanonicalReader(encoded);
        if (!reader.TryReadU8(out var version) || version != FormatVersion
            || !reader.TryReadFixedBytes(IdLength, out var id)
            || !reader.TryReadString(MaxNameLength, out var name)
            || !reader.TryReadU8(out var kind) || !Enum.IsDefined((ApplicationKind)kind)
            || !reader.TryReadBool(out var hasCheck))
        {
            return false;
        }

        // A distributed application has its registration check (password check or CA key), a centralized one none.
        if (hasCheck != ((ApplicationKind)kind != ApplicationKind.Centralized))
        {
            return false;
        }

        byte[]? check = null;
        if (hasCheck)
        {
            if (!reader.TryReadFixedBytes(RegistrationCheckLength, out var c))
            {
                return false;
            }

            check = c.ToArray();
        }

        if (!reader.TryReadU64(out var maxEntries) || !reader.TryReadU64(out var maxBytes) || !reader.TryReadU64(out var period)
            || !reader.TryReadU64(out var usedEntries) || !reader.TryReadU64(out var usedBytes)
            || !reader.TryReadCount(Cluster.ClusterParameters.MaxServers + 1, 2 + KeyLength, out var count))
        {
            return false;
        }

        var decoded = new ApplicationRecord(id.ToArray(), name, (ApplicationKind)kind, check, new ApplicationQuota(maxEntries, maxBytes), period)
        {
            UsedEntries = usedEntries,
            UsedBytes = usedBytes,
        };
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadU16(out var instance) || !reader.TryReadFixedBytes(KeyLength, out var key) || !decoded.Instances.TryAdd(instance, key.ToArray()))
            {
                return false;
            }
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        record = decoded;
        return true;
    }
}

/// <summary>One stored data entry.</summary>
/// <remarks>
/// Encoding, version 1: u8 version, string id, u8 type, bytes value, u64 version, u64 notBefore, u64 stored
/// period, then for a secret: 16-byte dealing id, u64 ordinal (the secret's place in the order the network
/// stored secrets in, which fixes its place in the share vector), bool released.
/// </remarks>
public sealed class DataRecord
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Longest data id in UTF-8 bytes.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Largest value (a public value, or a secret's ciphertext): 1 MiB.</summary>
    public const int MaxValueLength = 1 << 20;

    /// <summary>Length of a dealing id (the client's name for one sharing of a data key).</summary>
    public const int DealingLength = 16;

    public DataRecord(string id, DataType type, byte[] value, ulong version, ulong notBefore, ulong storedPeriod, byte[]? dealing = null, ulong ordinal = 0, bool released = false)
    {
        Id = id;
        Type = type;
        Value = value;
        Version = version;
        NotBefore = notBefore;
        StoredPeriod = storedPeriod;
        Dealing = dealing ?? new byte[DealingLength];
        Ordinal = ordinal;
        Released = released;
    }

    public string Id { get; }

    public DataType Type { get; }

    /// <summary>The public value, or the secret's AEAD ciphertext.</summary>
    public byte[] Value { get; }

    /// <summary>1 when stored, +1 per write.</summary>
    public ulong Version { get; }

    /// <summary>StoreUntil: unix milliseconds before which nothing is released (0: no date).</summary>
    public ulong NotBefore { get; }

    public ulong StoredPeriod { get; }

    /// <summary>A secret's dealing: the id under which the client handed each server its share.</summary>
    public byte[] Dealing { get; }

    /// <summary>A secret's ordinal among every secret the network stored.</summary>
    public ulong Ordinal { get; }

    /// <summary>A distributed-reader secret whose release a quorum of instances asked for.</summary>
    public bool Released { get; }

    public bool IsSecret => Type is DataType.SecretSingle or DataType.SecretDistributedReader or DataType.SecretDistributed;

    /// <summary>Read/write types take writes (by a quorum of instances); the others are write-once.</summary>
    public static bool IsReadWrite(DataType type) => type is DataType.PublicReadWrite or DataType.SecretDistributed;

    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(Value.Length + 96);
        var writer = new CanonicalWriter(output);
        writer.WriteU8(FormatVersion);
        writer.WriteString(Id, MaxIdLength);
        writer.WriteU8((byte)Type);
        writer.WriteBytes(Value, MaxValueLength);
        writer.WriteU64(Version);
        writer.WriteU64(NotBefore);
        writer.WriteU64(StoredPeriod);
        if (IsSecret)
        {
            writer.WriteFixedBytes(Dealing);
            writer.WriteU64(Ordinal);
            writer.WriteBool(Released);
        }

        return output.WrittenSpan.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out DataRecord? record)
    {
        record = null;
        var reader = new CanonicalReader(encoded);
        if (!reader.TryReadU8(out var version) || version != FormatVersion
            || !reader.TryReadString(MaxIdLength, out var id)
            || !reader.TryReadU8(out var type) || !Enum.IsDefined((DataType)type)
            || !reader.TryReadBytes(MaxValueLength, out var value)
            || !reader.TryReadU64(out var dataVersion) || !reader.TryReadU64(out var notBefore) || !reader.TryReadU64(out var period))
        {
            return false;
        }

        var decoded = new DataRecord(id, (DataType)type, value.ToArray(), dataVersion, notBefore, period);
        if (decoded.IsSecret)
        {
            if (!reader.TryReadFixedBytes(DealingLength, out var dealing) || !reader.TryReadU64(out var ordinal) || !reader.TryReadBool(out var released))
            {
                return false;
            }

            decoded = new DataRecord(id, (DataType)type, decoded.Value, dataVersion, notBefore, period, dealing.ToArray(), ordinal, released);
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        record = decoded;
        return true;
    }
}

/// <summary>
/// An application's threshold signing key: its id, its ordinal among every key applications generated
/// (which names its DKG instance and, once it joins the share vector, its place there) and the ledger
/// period that generated it. The public key is not here: the DKG computes it after the ledger applied this.
/// </summary>
/// <remarks>Encoding, version 1: u8 version, string id, u64 ordinal, u64 period, bool joint secret.</remarks>
public sealed class KeyRecord
{
    public const byte FormatVersion = 1;

    /// <summary>Most application keys the network holds (each has full commitments in the public state).</summary>
    public const int MaxKeys = 1000;

    /// <summary>Longest message a key signs.</summary>
    public const int MaxMessageLength = 64 * 1024;

    /// <summary>Most messages one batch signing request (<c>POST /v1/keys/{id}/sign-batch</c>) carries.</summary>
    public const int MaxBatchMessages = 256;

    public KeyRecord(string id, ulong ordinal, ulong generatedPeriod, bool jointSecret = false)
    {
        Id = id;
        Ordinal = ordinal;
        GeneratedPeriod = generatedPeriod;
        IsJointSecret = jointSecret;
    }

    /// <summary>
    /// GenerateJointSecret (toolkit 5.3) with a random value: the same DKG, but the result is a secret the
    /// owner may reconstruct (its shares are released to it) and never a signing key.
    /// </summary>
    public bool IsJointSecret { get; }

    public string Id { get; }

    public ulong Ordinal { get; }

    public ulong GeneratedPeriod { get; }

    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(64);
        var writer = new CanonicalWriter(output);
        writer.WriteU8(FormatVersion);
        writer.WriteString(Id, DataRecord.MaxIdLength);
        writer.WriteU64(Ordinal);
        writer.WriteU64(GeneratedPeriod);
        writer.WriteBool(IsJointSecret);
        return output.WrittenSpan.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out KeyRecord? record)
    {
        record = null;
        var reader = new CanonicalReader(encoded);
        if (!reader.TryReadU8(out var version) || version != FormatVersion
            || !reader.TryReadString(DataRecord.MaxIdLength, out var id)
            || !reader.TryReadU64(out var ordinal) || !reader.TryReadU64(out var period) || !reader.TryReadBool(out var joint) || !reader.TryReadEnd())
        {
            return false;
        }

        record = new KeyRecord(id, ordinal, period, joint);
        return true;
    }
}

/// <summary>Handles: <c>app_&lt;32 hex app id&gt;_&lt;instance&gt;</c>.</summary>
public static class Handles
{
    public static string Format(ReadOnlySpan<byte> applicationId, int instance) =>
        $"app_{Convert.ToHexStringLower(applicationId)}_{instance.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Parses a handle; false for anything that is not exactly one.</summary>
    public static bool TryParse(string handle, [NotNullWhen(true)] out string? applicationIdHex, out int instance)
    {
        applicationIdHex = null;
        instance = 0;
        if (handle is null || handle.Length < 4 + 32 + 2 || !handle.StartsWith("app_", StringComparison.Ordinal) || handle[36] != '_')
        {
            return false;
        }

        var hex = handle.Substring(4, 32);
        var number = handle[37..];
        if (!hex.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'))
            || number.Length is 0 or > 4 || !number.All(char.IsAsciiDigit) || (number.Length > 1 && number[0] == '0'))
        {
            return false;
        }

        instance = int.Parse(number, System.Globalization.CultureInfo.InvariantCulture);
        applicationIdHex = hex;
        return instance <= Cluster.ClusterParameters.MaxServers;
    }
}
