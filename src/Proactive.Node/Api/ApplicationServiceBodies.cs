// References: docs/API.md "Applications: services" (the bodies; field names are a contract);
// toolkit (seed 001) section 5.3 (GetTime, GetRandom).
using System.Text.Json.Serialization;

namespace Proactive.Node.Api;

/// <summary>The body of <c>GET /v1/cluster</c>: what a client needs to find and check every server.</summary>
/// <param name="Network">The network id, 32 lowercase hex digits (signed in every authenticated request).</param>
/// <param name="Suite">The ciphersuite name: <c>ed25519</c>, <c>ristretto255</c> or <c>p256</c>.</param>
/// <param name="ServerCount">n.</param>
/// <param name="Threshold">t: t+1 servers answer a DPRF or sign.</param>
/// <param name="Faults">f.</param>
/// <param name="PeriodSeconds">The period length L in seconds.</param>
/// <param name="Period">This server's current period.</param>
/// <param name="NetworkKey">The network's public key, lowercase hex; null before initialization.</param>
/// <param name="Servers">Every server, by id.</param>
public sealed record ClusterBody(
    string Network, string Suite, int ServerCount, int Threshold, int Faults, long PeriodSeconds, ulong Period, string? NetworkKey,
    IReadOnlyList<ClusterServerBody> Servers);

/// <summary>One server of <see cref="ClusterBody"/>.</summary>
/// <param name="Id">The server id.</param>
/// <param name="Api">Its application API, <c>http://host:apiPort/</c>; null when the configuration gives it no API port.</param>
public sealed record ClusterServerBody(int Id, string? Api);

/// <summary>The body of <c>GET /v1/time</c>: this server's local time, signed with its period key.</summary>
/// <param name="Server">This server's id.</param>
/// <param name="Period">The period of the signing key (its latest certified period).</param>
/// <param name="Time">The time, UTC, ISO 8601 with offset (the same instant as <paramref name="UnixMilliseconds"/>).</param>
/// <param name="UnixMilliseconds">The time, Unix milliseconds: what is signed.</param>
/// <param name="Nonce">The request's nonce, 32 lowercase hex digits: signed, so the answer is fresh.</param>
/// <param name="PublicKey">V_i(period), lowercase hex: listed for this server in the period certificate's KeyTable.</param>
/// <param name="Signature">Ed25519 over <c>Proactive.Protocols.Services.SignedTime.Statement</c>, lowercase hex.</param>
public sealed record TimeBody(int Server, ulong Period, DateTimeOffset Time, long UnixMilliseconds, string Nonce, string PublicKey, string Signature);

/// <summary>The request of <c>POST /v1/random</c>.</summary>
/// <param name="Input">The DPRF input, lowercase hex, 0 to 1024 bytes.</param>
public sealed record RandomRequest(string Input);

/// <summary>The body of <c>POST /v1/random</c>: this server's partial evaluation.</summary>
/// <param name="Server">This server's id.</param>
/// <param name="Period">The committed period of the DPRF key share used: verify under that period's certified public state.</param>
/// <param name="Input">The input, as asked.</param>
/// <param name="Message">Exactly what was evaluated, lowercase hex (<c>ApplicationRandomness.Message(applicationId, input)</c>).</param>
/// <param name="Partial">The partial evaluation and its proof.</param>
public sealed record RandomBody(int Server, ulong Period, string Input, string Message, RandomPartialBody Partial);

/// <summary>A partial DPRF evaluation in <see cref="RandomBody"/>.</summary>
/// <param name="Server">The evaluating server's index (the x of its share).</param>
/// <param name="Value">Y_i = x_i * H(message), the encoded group element, lowercase hex.</param>
/// <param name="Proof">The DLEQ proof c || z, lowercase hex.</param>
/// <param name="Encoding">The canonical <c>DprfPartialEvaluation</c> encoding of the three above, lowercase hex: what a client decodes.</param>
public sealed record RandomPartialBody(int Server, string Value, string Proof, string Encoding);

/// <summary>The body of <c>GET /v1/period-certificate</c>.</summary>
/// <param name="Period">The certified period.</param>
/// <param name="Certificate">The canonical <c>PeriodCertificate</c> encoding, base64: the KeyTable and the public-state hash threshold-signed with the network key.</param>
/// <param name="PublicState">The canonical <c>RefreshPublicState</c> encoding the certificate's hash is of, base64; null when this server no longer (or not yet) holds that state.</param>
public sealed record PeriodCertificateBody(ulong Period, string Certificate, string? PublicState);

/// <summary>
/// Source-generated JSON for the application service bodies. Reading is strict (the request types):
/// member names are case-sensitive, unknown members and duplicates are errors, nulls must be allowed
/// by the type, numbers are never read from strings.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    WriteIndented = false)]
[JsonSerializable(typeof(ClusterBody))]
[JsonSerializable(typeof(TimeBody))]
[JsonSerializable(typeof(RandomRequest))]
[JsonSerializable(typeof(RandomBody))]
[JsonSerializable(typeof(PeriodCertificateBody))]
public sealed partial class ApplicationApiJsonContext : JsonSerializerContext;
