// References: docs/API.md "Applications: registration, storage, keys" (the bodies; field names are a
// contract); toolkit (seed 001) sections 5.1 (registration) and 5.2, Table 4 (the data types).
using System.Text.Json.Serialization;

namespace Proactive.Node.Api;

/// <summary>The body of <c>POST /v1/apps</c> (read by the ledger, <c>ApplicationState</c>).</summary>
/// <param name="PublicKey">The instance's Ed25519 public key, 64 lowercase hex digits; the request is signed with its private half (handle <c>new</c>).</param>
/// <param name="Name">The application's name, 1 to 128 bytes.</param>
/// <param name="UniqueId">A centralized application's unique id (toolkit Reg(name, uniqueId)); give it or <paramref name="Password"/>.</param>
/// <param name="Password">A distributed application's password verifier, 64 lowercase hex digits (the SDK derives it with PBKDF2; the ledger keeps only its SHA-256).</param>
/// <param name="Instance">With <paramref name="Password"/> or <paramref name="Certificate"/>: the server id 1..n the instance runs at.</param>
/// <param name="MaxEntries">A smaller entry quota than the default (250,000), for the first registration of the application.</param>
/// <param name="MaxBytes">A smaller byte quota than the default (512 MiB).</param>
/// <param name="Certificate">
/// A distributed application's instance registering by certificate (toolkit 5.1 option 2): its one-time
/// certificate from the application's CA, lowercase hex of the <c>ApplicationCertificate</c> encoding; it must
/// name this network, <paramref name="Name"/>, <paramref name="Instance"/> (as instance and server) and
/// <paramref name="PublicKey"/>. Give exactly one of <paramref name="UniqueId"/>, <paramref name="Password"/> and this.
/// </param>
public sealed record RegisterRequest(string PublicKey, string Name, string? UniqueId, string? Password, int? Instance, ulong? MaxEntries, ulong? MaxBytes, string? Certificate = null);

/// <summary>The body of <c>POST /v1/data</c>.</summary>
/// <param name="Id">The entry's id: 1 to 128 letters, digits, '.', '_' or '-'.</param>
/// <param name="Type">One of the five types of toolkit Table 4: <c>public-write-once</c>, <c>public-read-write</c>, <c>secret-single</c>, <c>secret-distributed-reader</c>, <c>secret-distributed</c>.</param>
/// <param name="Value">Base64: the value (public types) or the AEAD ciphertext under the dealt data key (secret types), at most 1 MiB.</param>
/// <param name="Until">StoreUntil: Unix milliseconds before which no server releases a share (distributed-reader secrets only).</param>
/// <param name="Dealing">Secrets: the 32-hex dealing id the data key's shares were dealt under.</param>
/// <param name="Shares">Secrets, optional: the data key's shares, one base64 HPKE-sealed share per server in server order (each server keeps its own when the request is applied); without them the shares are handed over before with <c>PUT /v1/dealings/{dealing}</c>.</param>
/// <param name="SharesPeriod">With <paramref name="Shares"/>: the period of the servers' keys they are sealed to, which must be the period of the ledger that agrees the request (else <c>409 stale-period</c>).</param>
public sealed record StoreRequest(string Id, string Type, string Value, ulong? Until, string? Dealing, IReadOnlyList<string>? Shares = null, ulong? SharesPeriod = null);

/// <summary>One entry of <c>POST /v1/data/batch</c> (its shares are handed over before, with <c>PUT /v1/dealings</c>).</summary>
/// <param name="Id">The entry's id.</param>
/// <param name="Type">A write-once type.</param>
/// <param name="Value">Base64 of the value or ciphertext.</param>
/// <param name="Until">StoreUntil (distributed-reader secrets only).</param>
/// <param name="Dealing">Secrets: the dealing id.</param>
public sealed record BatchStoreEntry(string Id, string Type, string Value, ulong? Until, string? Dealing);

/// <summary>The body of <c>PUT /v1/data/{id}</c>.</summary>
/// <param name="Value">Base64 of the new value (or ciphertext).</param>
/// <param name="Version">The version this write replaces.</param>
/// <param name="Dealing">Secrets: the dealing of the new value's data key.</param>
/// <param name="Shares">Secrets, optional: the new data key's shares sealed to each server, as for <c>POST /v1/data</c>.</param>
/// <param name="SharesPeriod">With <paramref name="Shares"/>: the period of the keys they are sealed to.</param>
public sealed record WriteRequest(string Value, ulong Version, string? Dealing, IReadOnlyList<string>? Shares = null, ulong? SharesPeriod = null);

/// <summary>The body of <c>POST /v1/data/{id}/release</c>.</summary>
/// <param name="Version">The version to release.</param>
public sealed record ReleaseRequest(ulong Version);

/// <summary>The body of <c>POST /v1/keys</c>.</summary>
/// <param name="Id">The key's id (as a data id).</param>
public sealed record KeyRequest(string Id);

/// <summary>The body of <c>POST /v1/keys/{id}/sign</c> and <c>/approve</c>.</summary>
/// <param name="Message">Base64 of the message, at most 64 KiB.</param>
public sealed record MessageRequest(string Message);

/// <summary>The body of <c>POST /v1/keys/{id}/sign-batch</c>: 1 to 256 messages, each standard base64.</summary>
public sealed record MessagesRequest(IReadOnlyList<string> Messages);

/// <summary>The body of <c>PUT /v1/dealings/{dealing}</c>.</summary>
/// <param name="Period">The period of the server's key the share is sealed to (<c>GET /v1/dealing-key</c>).</param>
/// <param name="Share">Base64 of the HPKE-sealed share (<c>HpkeSealedMessage</c> encoding).</param>
public sealed record DealtShareRequest(ulong Period, string Share);

/// <summary>The body of <c>POST /v1/data/batch</c>: write-once entries stored together (all or none).</summary>
/// <param name="Entries">1 to 4096 entries, each as the body of <c>POST /v1/data</c> without shares (write-once types only).</param>
public sealed record BatchStoreRequest(IReadOnlyList<BatchStoreEntry> Entries);

/// <summary>The 201 answer of <c>POST /v1/data/batch</c>.</summary>
/// <param name="Stored">How many entries were stored.</param>
/// <param name="Entries">Every entry stored.</param>
public sealed record BatchStoredBody(int Stored, IReadOnlyList<DataBody> Entries);

/// <summary>The 201 answer of <c>PUT /v1/dealings</c>.</summary>
/// <param name="Kept">How many dealt shares this server keeps.</param>
/// <param name="Server">This server.</param>
public sealed record DealtSharesBody(int Kept, int Server);

/// <summary>The 202 answer of <c>POST /v1/links/messages</c>.</summary>
/// <param name="Status"><c>relayed</c>.</param>
public sealed record LinkSentBody(string Status);

/// <summary>The body of <c>PUT /v1/dealings</c> (bulk): many dealt shares sealed together.</summary>
/// <param name="Period">The period of the server's key the shares are sealed to.</param>
/// <param name="Shares">Base64 of the HPKE-sealed (16-byte dealing id || scalar) entries (info <c>DataKeySharing.DealtSharesInfo</c>), at most 16384.</param>
public sealed record DealtSharesRequest(ulong Period, string Shares);

/// <summary>The body of <c>POST /v1/period-keys</c>.</summary>
/// <param name="PublicKey">The instance's key of the period, 64 lowercase hex digits.</param>
/// <param name="Period">The period it is for: the one the servers are in.</param>
public sealed record PeriodKeyRequest(string PublicKey, ulong Period);

/// <summary>The answer of <c>POST /v1/period-keys</c>: the certificate, a signature by the network key over the statement.</summary>
/// <param name="Period">The period.</param>
/// <param name="Instance">The instance.</param>
/// <param name="ApplicationId">The application id.</param>
/// <param name="PublicKey">The certified key.</param>
/// <param name="NetworkKey">The network key that signed.</param>
/// <param name="Statement">The signed statement (ApplicationPeriodKeys.Statement), hex.</param>
/// <param name="Certificate">The signature, hex.</param>
public sealed record PeriodKeyBody(ulong Period, int Instance, string ApplicationId, string PublicKey, string NetworkKey, string Statement, string Certificate);

/// <summary>The body of <c>POST /v1/links/messages</c>.</summary>
/// <param name="To">The recipient instance (a server id).</param>
/// <param name="Payload">Base64 of the message, at most 64 KiB.</param>
public sealed record LinkSendRequest(int To, string Payload);

/// <summary>One relayed message.</summary>
/// <param name="From">The sender instance.</param>
/// <param name="SentAt">When its sender signed it.</param>
/// <param name="Payload">Base64 of the message.</param>
public sealed record LinkMessageBody(int From, DateTimeOffset SentAt, string Payload);

/// <summary>The answer of <c>GET /v1/links/messages</c>: the messages waiting for the caller here (taken).</summary>
/// <param name="Messages">The messages, oldest first.</param>
public sealed record LinkMessagesBody(IReadOnlyList<LinkMessageBody> Messages);

/// <summary>The quota an application registered with.</summary>
/// <param name="MaxEntries">Most entries (data and keys).</param>
/// <param name="MaxBytes">Most bytes of stored values.</param>
public sealed record QuotaBody(ulong MaxEntries, ulong MaxBytes);

/// <summary>The 201 answer of <c>POST /v1/apps</c>.</summary>
/// <param name="Handle">The handle every further request carries.</param>
/// <param name="ApplicationId">The application id, 32 lowercase hex digits.</param>
/// <param name="Name">The name.</param>
/// <param name="Instance">0 (centralized) or the server id of this instance.</param>
/// <param name="Kind"><c>centralized</c> or <c>distributed</c>.</param>
/// <param name="Quota">Its quota.</param>
/// <param name="RegisteredPeriod">The ledger period the application was registered in.</param>
public sealed record RegistrationBody(string Handle, string ApplicationId, string Name, int Instance, string Kind, QuotaBody Quota, ulong RegisteredPeriod);

/// <summary>A quota with its use.</summary>
/// <param name="MaxEntries">Most entries.</param>
/// <param name="MaxBytes">Most bytes.</param>
/// <param name="UsedEntries">Entries held.</param>
/// <param name="UsedBytes">Bytes held.</param>
public sealed record QuotaUseBody(ulong MaxEntries, ulong MaxBytes, ulong UsedEntries, ulong UsedBytes);

/// <summary>The answer of <c>GET /v1/apps/self</c>.</summary>
/// <param name="ApplicationId">The application id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Kind"><c>centralized</c> or <c>distributed</c>.</param>
/// <param name="Instance">The calling instance.</param>
/// <param name="Instances">Every registered instance.</param>
/// <param name="Quorum">How many instances a quorum operation needs (1 for a centralized application).</param>
/// <param name="Quota">The quota and its use.</param>
/// <param name="RegisteredPeriod">The ledger period of the registration.</param>
/// <param name="RegisteredBy">How its instances register: <c>unique-id</c> (centralized), <c>password</c> or <c>certificate</c> (distributed).</param>
public sealed record ApplicationBody(string ApplicationId, string Name, string Kind, int Instance, IReadOnlyList<int> Instances, int Quorum, QuotaUseBody Quota, ulong RegisteredPeriod, string RegisteredBy);

/// <summary>
/// A stored entry: the answer of a store (201), a write or release (200), and of <c>GET /v1/data/{id}</c>
/// (with <paramref name="Value"/>). The secret members are present only for secret entries; <c>value</c>
/// only on reads.
/// </summary>
/// <param name="Id">The entry's id.</param>
/// <param name="Type">Its type.</param>
/// <param name="Version">Its version (1 when stored, +1 per write).</param>
/// <param name="StoredPeriod">The ledger period its current value was stored in.</param>
/// <param name="Until">The StoreUntil date, or null.</param>
/// <param name="Dealing">Secrets: the dealing id of the data key.</param>
/// <param name="Ordinal">Secrets: the secret's place in the network's order of secrets.</param>
/// <param name="Released">Secrets: whether its shares are released to the application's instances.</param>
/// <param name="Value">On reads: base64 of the value (for a secret, its ciphertext).</param>
public sealed record DataBody(string Id, string Type, ulong Version, ulong StoredPeriod, DateTimeOffset? Until, string? Dealing = null, ulong? Ordinal = null, bool? Released = null, string? Value = null);

/// <summary>The 202 answer of a quorum operation that still waits for instances.</summary>
/// <param name="Id">The entry or key.</param>
/// <param name="Status"><c>pending</c>.</param>
/// <param name="Approvals">Instances that asked so far.</param>
/// <param name="Needed">Instances needed.</param>
public sealed record PendingBody(string Id, string Status, int Approvals, int Needed);

/// <summary>The answer of <c>GET /v1/data/{id}/share</c>: the entry, the ciphertext and this server's share, sealed to the caller.</summary>
/// <param name="Id">The entry's id.</param>
/// <param name="Type">Its type.</param>
/// <param name="Version">Its version.</param>
/// <param name="StoredPeriod">The ledger period of its value.</param>
/// <param name="Dealing">The dealing id.</param>
/// <param name="Ordinal">The secret's ordinal.</param>
/// <param name="Released">Whether it is released.</param>
/// <param name="Until">The StoreUntil date, or null.</param>
/// <param name="Server">This server (the x of its share).</param>
/// <param name="Sharing">Which sharing the share belongs to: <c>dealt</c>, or <c>p{period}</c> once refreshed; combine t+1 of one sharing.</param>
/// <param name="Ciphertext">Base64 of the stored ciphertext.</param>
/// <param name="Share">Base64 of the share, HPKE-sealed to the <c>to</c> key (info <c>DataKeySharing.ReleasedShareInfo</c>).</param>
public sealed record DataShareBody(
    string Id, string Type, ulong Version, ulong StoredPeriod, string Dealing, ulong Ordinal, bool Released, DateTimeOffset? Until, int Server, string Sharing,
    string Ciphertext, string Share);

/// <summary>The 201 answer of <c>PUT /v1/dealings/{dealing}</c>.</summary>
/// <param name="Dealing">The dealing id.</param>
/// <param name="Server">This server.</param>
public sealed record DealtShareBody(string Dealing, int Server);

/// <summary>The answer of <c>GET /v1/dealing-key</c>.</summary>
/// <param name="Server">This server.</param>
/// <param name="Period">Its current period.</param>
/// <param name="PublicKey">Its X25519 encryption key of the period, 64 lowercase hex digits: the one its KeyTable entry lists.</param>
public sealed record DealingKeyBody(int Server, ulong Period, string PublicKey);

/// <summary>An application key: the 201 answer of <c>POST /v1/keys</c> once generated, and <c>GET /v1/keys/{id}</c>.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Ordinal">Its place in the network's order of keys.</param>
/// <param name="Suite">The suite.</param>
/// <param name="Status"><c>generating</c> or <c>ready</c>.</param>
/// <param name="PublicKey">The public key, lowercase hex; null while generating.</param>
public sealed record KeyBody(string Id, ulong Ordinal, string Suite, string Status, string? PublicKey);

/// <summary>The 202 answer of a key generation a distributed application's quorum has not asked for yet, or of an approval.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Status"><c>pending</c>, or <c>approved</c> once a quorum approved a message.</param>
public sealed record KeyStatusBody(string Id, string Status);

/// <summary>The answer of <c>POST /v1/keys/{id}/sign</c>.</summary>
/// <param name="PublicKey">The key's public key, lowercase hex.</param>
/// <param name="Message">The message, lowercase hex.</param>
/// <param name="Signature">The signature, lowercase hex (RFC 8032 for Ed25519 keys).</param>
/// <param name="Suite">The suite.</param>
/// <param name="Signers">The servers whose shares made it.</param>
public sealed record SignatureBody(string PublicKey, string Message, string Signature, string Suite, IReadOnlyList<int> Signers);

/// <summary>One message of a batch and its signature.</summary>
/// <param name="Message">The message, lowercase hex.</param>
/// <param name="Signature">Its signature, lowercase hex.</param>
public sealed record SignedMessageBody(string Message, string Signature);

/// <summary>The answer of <c>POST /v1/keys/{id}/sign-batch</c>: a signature per message, in the request's order.</summary>
/// <param name="PublicKey">The key's public key, lowercase hex.</param>
/// <param name="Suite">The suite.</param>
/// <param name="Signers">The servers whose shares made them.</param>
/// <param name="Signatures">The messages and their signatures.</param>
public sealed record SignatureBatchBody(string PublicKey, string Suite, IReadOnlyList<int> Signers, IReadOnlyList<SignedMessageBody> Signatures);

/// <summary>
/// Source-generated JSON of the ledger routes' bodies: the schemas of the OpenAPI document, and the
/// strict reading of the one body the API itself reads (<see cref="DealtShareRequest"/>; the others are
/// read by the ledger, strictly too).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    WriteIndented = false)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(StoreRequest))]
[JsonSerializable(typeof(BatchStoreEntry))]
[JsonSerializable(typeof(WriteRequest))]
[JsonSerializable(typeof(ReleaseRequest))]
[JsonSerializable(typeof(KeyRequest))]
[JsonSerializable(typeof(MessageRequest))]
[JsonSerializable(typeof(MessagesRequest))]
[JsonSerializable(typeof(DealtShareRequest))]
[JsonSerializable(typeof(BatchStoreRequest))]
[JsonSerializable(typeof(BatchStoredBody))]
[JsonSerializable(typeof(DealtSharesBody))]
[JsonSerializable(typeof(LinkSentBody))]
[JsonSerializable(typeof(DealtSharesRequest))]
[JsonSerializable(typeof(PeriodKeyRequest))]
[JsonSerializable(typeof(PeriodKeyBody))]
[JsonSerializable(typeof(LinkSendRequest))]
[JsonSerializable(typeof(LinkMessagesBody))]
[JsonSerializable(typeof(RegistrationBody))]
[JsonSerializable(typeof(ApplicationBody))]
[JsonSerializable(typeof(DataBody))]
[JsonSerializable(typeof(PendingBody))]
[JsonSerializable(typeof(DataShareBody))]
[JsonSerializable(typeof(DealtShareBody))]
[JsonSerializable(typeof(DealingKeyBody))]
[JsonSerializable(typeof(KeyBody))]
[JsonSerializable(typeof(KeyStatusBody))]
[JsonSerializable(typeof(SignatureBody))]
[JsonSerializable(typeof(SignatureBatchBody))]
public sealed partial class LedgerApiJsonContext : JsonSerializerContext;
