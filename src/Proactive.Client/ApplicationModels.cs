// References: docs/API.md "Applications: registration, storage, keys" (the bodies these mirror);
// toolkit (seed 001) sections 5.1 (registration, quotas), 5.2 and Table 4 (data types), 5.3 (GenerateKey, Sign).
using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Proactive.Client;

/// <summary>A smaller quota than the network's default, asked for at registration (null: the default).</summary>
/// <param name="MaxEntries">Most entries (data and keys).</param>
/// <param name="MaxBytes">Most bytes of stored values.</param>
public sealed record RequestedQuota(ulong? MaxEntries = null, ulong? MaxBytes = null);

/// <summary>The calling application as the network holds it (<c>GET /v1/apps/self</c>).</summary>
/// <param name="ApplicationId">The application id, hex.</param>
/// <param name="Name">Its name.</param>
/// <param name="Kind"><c>centralized</c> or <c>distributed</c>.</param>
/// <param name="Instance">The calling instance.</param>
/// <param name="Instances">Every registered instance.</param>
/// <param name="Quorum">How many instances a quorum operation needs.</param>
/// <param name="MaxEntries">The entry quota.</param>
/// <param name="MaxBytes">The byte quota.</param>
/// <param name="UsedEntries">Entries held.</param>
/// <param name="UsedBytes">Bytes held.</param>
/// <param name="RegisteredPeriod">The period of the registration.</param>
/// <param name="RegisteredBy">How its instances register: <c>unique-id</c> (centralized), <c>password</c> or <c>certificate</c>.</param>
public sealed record ApplicationInfo(
    string ApplicationId, string Name, string Kind, int Instance, IReadOnlyList<int> Instances, int Quorum, ulong MaxEntries, ulong MaxBytes, ulong UsedEntries,
    ulong UsedBytes, ulong RegisteredPeriod, string RegisteredBy)
{
    /// <summary>One JSON object (what <c>proactive app show --json</c> prints).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ApplicationOutputJsonContext.Default.ApplicationInfo);
}

/// <summary>A stored entry's description (never its value).</summary>
/// <param name="Id">The entry's id.</param>
/// <param name="Type">Its type (toolkit Table 4).</param>
/// <param name="Version">Its version.</param>
/// <param name="StoredPeriod">The period its value was stored in.</param>
/// <param name="Until">The StoreUntil date, if any.</param>
/// <param name="Dealing">Secrets: the dealing id of the data key, hex.</param>
/// <param name="Released">Secrets: whether the servers hand out their shares.</param>
public sealed record DataEntry(string Id, string Type, ulong Version, ulong StoredPeriod, DateTimeOffset? Until, string? Dealing, bool? Released);

/// <summary>A quorum operation of a distributed application that waits for more of its instances.</summary>
/// <param name="Id">The entry or key.</param>
/// <param name="Approvals">Instances that asked so far.</param>
/// <param name="Needed">Instances needed.</param>
public sealed record QuorumPending(string Id, int Approvals, int Needed);

/// <summary>What a store, write or release did: the entry, or (a distributed application's quorum operation) the approvals so far.</summary>
/// <param name="Entry">The entry as it now is; null while pending.</param>
/// <param name="Pending">The approvals so far; null once applied.</param>
public sealed record DataResult(DataEntry? Entry, QuorumPending? Pending)
{
    /// <summary>Whether more instances must ask before it applies.</summary>
    public bool IsPending => Pending is not null;

    /// <summary>One JSON object (what the CLI prints with <c>--json</c>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ApplicationOutputJsonContext.Default.DataResult);
}

/// <summary>An entry's value as the client retrieved and checked it.</summary>
/// <param name="Id">The entry's id.</param>
/// <param name="Type">Its type.</param>
/// <param name="Version">Its version.</param>
/// <param name="Value">The value: for public data as f+1 servers agreed on it; for a secret, decrypted with the data key rebuilt from t+1 shares (the authentication tag checked).</param>
/// <param name="Sharing">For a secret: the sharing the shares came from (<c>dealt</c> or <c>p{period}</c>); null for public data.</param>
/// <param name="Servers">The servers whose answers (public) or shares (secret) made the value.</param>
/// <param name="Failures">Servers asked whose answers were not used, and why.</param>
public sealed record RetrievedData(string Id, string Type, ulong Version, byte[] Value, string? Sharing, IReadOnlyList<int> Servers, IReadOnlyDictionary<int, string> Failures);

/// <summary>An application signing key.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Suite">The suite (<c>ed25519</c> by default).</param>
/// <param name="Status"><c>ready</c>, <c>generating</c> or <c>pending</c> (a distributed application's quorum has not asked yet).</param>
/// <param name="PublicKey">The public key, hex; null until generated.</param>
/// <param name="Pending">The approvals so far while pending.</param>
public sealed record ApplicationKey(string Id, string Suite, string Status, string? PublicKey, QuorumPending? Pending)
{
    /// <summary>One JSON object (what <c>proactive key generate --json</c> prints).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ApplicationOutputJsonContext.Default.ApplicationKey);
}

/// <summary>A signature from an application key, verified by the client before it is returned.</summary>
/// <param name="KeyId">The key's id.</param>
/// <param name="Suite">The suite.</param>
/// <param name="PublicKey">The key's public key (as f+1 servers describe the key).</param>
/// <param name="Message">The message.</param>
/// <param name="Signature">The signature: for Ed25519 a standard RFC 8032 signature.</param>
/// <param name="Signers">The servers whose shares made it.</param>
public sealed record SignatureResult(string KeyId, string Suite, byte[] PublicKey, byte[] Message, byte[] Signature, IReadOnlyList<int> Signers)
{
    /// <summary>One JSON object, byte strings in lowercase hex (what <c>proactive sign --json</c> prints).</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("keyId", KeyId);
            writer.WriteString("suite", Suite);
            writer.WriteString("publicKey", Convert.ToHexStringLower(PublicKey));
            writer.WriteString("message", Convert.ToHexStringLower(Message));
            writer.WriteString("signature", Convert.ToHexStringLower(Signature));
            writer.WriteStartArray("signers");
            foreach (var signer in Signers)
            {
                writer.WriteNumberValue(signer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>A distributed application's approval of signing one message with one key.</summary>
/// <param name="KeyId">The key.</param>
/// <param name="Approved">True once a quorum of instances approved: the message may now be signed.</param>
/// <param name="Pending">The approvals so far while not.</param>
public sealed record SigningApproval(string KeyId, bool Approved, QuorumPending? Pending);

/// <summary>Results as people and scripts read them (indented, camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ApplicationInfo))]
[JsonSerializable(typeof(DataResult))]
[JsonSerializable(typeof(ApplicationKey))]
[JsonSerializable(typeof(SigningApproval))]
internal sealed partial class ApplicationOutputJsonContext : JsonSerializerContext;

/// <summary>The bodies the client sends to the ledger's routes (absent members are left out, not written as null).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RegisterBody))]
[JsonSerializable(typeof(StoreBody))]
[JsonSerializable(typeof(WriteBody))]
[JsonSerializable(typeof(ReleaseBody))]
[JsonSerializable(typeof(KeyIdBody))]
[JsonSerializable(typeof(MessageBody))]
[JsonSerializable(typeof(MessagesBody))]
[JsonSerializable(typeof(DealtShareBody))]
internal sealed partial class RequestJsonContext : JsonSerializerContext;

internal sealed record RegisterBody(string PublicKey, string Name, string? UniqueId, string? Password, int? Instance, ulong? MaxEntries, ulong? MaxBytes, string? Certificate = null);

internal sealed record StoreBody(string Id, string Type, string Value, ulong? Until, string? Dealing, IReadOnlyList<string>? Shares = null, ulong? SharesPeriod = null);

internal sealed record WriteBody(string Value, ulong Version, string? Dealing);

internal sealed record ReleaseBody(ulong Version);

internal sealed record KeyIdBody(string Id);

internal sealed record MessageBody(string Message);

internal sealed record MessagesBody(IReadOnlyList<string> Messages);

internal sealed record DealtShareBody(ulong Period, string Share);

/// <summary>The answers of the ledger's routes as the client reads them: members a status leaves out are optional; unknown ones are skipped.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(RegistrationAnswer))]
[JsonSerializable(typeof(ApplicationAnswer))]
[JsonSerializable(typeof(DataAnswer))]
[JsonSerializable(typeof(ShareAnswer))]
[JsonSerializable(typeof(DealingKeyAnswer))]
[JsonSerializable(typeof(DealtAnswer))]
[JsonSerializable(typeof(KeyAnswer))]
[JsonSerializable(typeof(SignatureAnswer))]
[JsonSerializable(typeof(SignatureBatchAnswer))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
internal sealed partial class LedgerAnswerJsonContext : JsonSerializerContext;

internal sealed record QuotaAnswer(ulong MaxEntries, ulong MaxBytes, ulong? UsedEntries = null, ulong? UsedBytes = null);

internal sealed record RegistrationAnswer(string Handle, string ApplicationId, string Name, int Instance, string Kind, QuotaAnswer Quota, ulong RegisteredPeriod);

internal sealed record ApplicationAnswer(string ApplicationId, string Name, string Kind, int Instance, IReadOnlyList<int> Instances, int Quorum, QuotaAnswer Quota, ulong RegisteredPeriod, string? RegisteredBy = null);

/// <summary>An entry (201/200) or a pending quorum operation (202: <c>status</c>, <c>approvals</c>, <c>needed</c>).</summary>
internal sealed record DataAnswer(
    string Id, string? Type = null, ulong? Version = null, ulong? StoredPeriod = null, DateTimeOffset? Until = null, string? Dealing = null, ulong? Ordinal = null,
    bool? Released = null, string? Value = null, string? Status = null, int? Approvals = null, int? Needed = null);

internal sealed record ShareAnswer(string Id, string Type, ulong Version, string Dealing, int Server, string Sharing, string Ciphertext, string Share);

internal sealed record DealingKeyAnswer(int Server, ulong Period, string PublicKey);

internal sealed record DealtAnswer(string Dealing, int Server);

/// <summary>A key (201/200), a pending generation (202) or an approval (200/202).</summary>
internal sealed record KeyAnswer(string Id, string? Status = null, ulong? Ordinal = null, string? Suite = null, string? PublicKey = null, int? Approvals = null, int? Needed = null);

internal sealed record SignatureAnswer(string PublicKey, string Message, string Signature, string Suite, IReadOnlyList<int> Signers);

internal sealed record SignedMessageAnswer(string Message, string Signature);

internal sealed record SignatureBatchAnswer(string PublicKey, string Suite, IReadOnlyList<int> Signers, IReadOnlyList<SignedMessageAnswer> Signatures);
