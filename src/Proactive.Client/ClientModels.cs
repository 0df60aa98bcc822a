// References: docs/API.md "Applications: services" (the bodies these mirror); toolkit (seed 001)
// section 5.3 (GetTime: a vector of every server's time; GetRandom).
using System.Text.Json.Serialization;

namespace Proactive.Client;

/// <summary>The network as a server described it (<c>GET /v1/cluster</c>).</summary>
/// <param name="Network">The network id, 32 lowercase hex digits.</param>
/// <param name="Suite">The ciphersuite name (<c>ed25519</c>, <c>ristretto255</c>, <c>p256</c>).</param>
/// <param name="ServerCount">n.</param>
/// <param name="Threshold">t: t+1 partials make a value.</param>
/// <param name="Faults">f.</param>
/// <param name="PeriodSeconds">The period length in seconds.</param>
/// <param name="Period">The describing server's current period.</param>
/// <param name="NetworkKey">The network key, lowercase hex; null before initialization.</param>
/// <param name="Servers">Every server and its API.</param>
public sealed record ClusterInfo(
    string Network, string Suite, int ServerCount, int Threshold, int Faults, long PeriodSeconds, ulong Period, string? NetworkKey,
    IReadOnlyList<ClusterServerInfo> Servers);

/// <summary>One server of <see cref="ClusterInfo"/>.</summary>
/// <param name="Id">The server id.</param>
/// <param name="Api">Its application API (<c>http://host:port/</c>); null when it has none.</param>
public sealed record ClusterServerInfo(int Id, string? Api);

/// <summary>Every server's signed local time (toolkit GetTime), each checked under the network key.</summary>
/// <param name="Network">The network id.</param>
/// <param name="NetworkKey">The network key the signatures were checked under (through the period certificates).</param>
/// <param name="Servers">One entry per server, by id, verified or with the reason it is not.</param>
public sealed record TimeVector(string Network, string NetworkKey, IReadOnlyList<ServerTime> Servers)
{
    /// <summary>How many servers' times verified.</summary>
    public int VerifiedCount => Servers.Count(s => s.Verified);

    /// <summary>The vector as one indented JSON object (camelCase; what <c>proactive time --json</c> prints).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, ClientOutputJsonContext.Default.TimeVector);
}

/// <summary>One server's time in a <see cref="TimeVector"/>.</summary>
/// <param name="Server">The server id.</param>
/// <param name="Verified">True when the signature verified under the server's period key as the certificate (signed by the network key) lists it, over this request's nonce.</param>
/// <param name="Time">The server's time (UTC); null when it did not answer.</param>
/// <param name="Period">The period of the signing key.</param>
/// <param name="PublicKey">The signing key, lowercase hex.</param>
/// <param name="Signature">The Ed25519 signature, lowercase hex.</param>
/// <param name="Error">Why there is no verified time; null when <paramref name="Verified"/>.</param>
public sealed record ServerTime(int Server, bool Verified, DateTimeOffset? Time, ulong? Period, string? PublicKey, string? Signature, string? Error);

/// <summary>A joint random value (toolkit GetRandom) and everything needed to check it later.</summary>
/// <param name="Value">The 64-byte value.</param>
/// <param name="Proof">The proof material (<see cref="ProactiveClient.VerifyRandom"/>), serializable as JSON.</param>
/// <param name="Servers">The servers whose partials make the value, ascending (t+1 of them).</param>
/// <param name="Failures">Servers asked whose partials were not used, and why (down, refused, did not verify).</param>
public sealed record RandomResult(byte[] Value, RandomProof Proof, IReadOnlyList<int> Servers, IReadOnlyDictionary<int, string> Failures);

/// <summary>
/// Self-contained proof material of a joint random value: anyone holding the network key checks it
/// offline (<see cref="ProactiveClient.VerifyRandom"/>): the period certificate under the network key,
/// the public state under the certificate's hash, every partial's DLEQ proof under the public shares of
/// the DPRF key, and the value as their combination.
/// </summary>
/// <param name="Format">The format tag, <see cref="FormatTag"/>.</param>
/// <param name="Network">The network id, hex (informational: the network key is the trust anchor).</param>
/// <param name="Suite">The ciphersuite name.</param>
/// <param name="NetworkKey">The network key, hex, the proof was made under.</param>
/// <param name="Application">The application id, hex.</param>
/// <param name="Input">The input, hex.</param>
/// <param name="Message">The evaluated message, hex (<c>ApplicationRandomness.Message(application, input)</c>).</param>
/// <param name="Period">The period whose shares evaluated.</param>
/// <param name="Value">The value, hex (64 bytes).</param>
/// <param name="Output">The combined output (<c>DprfOutput</c> canonical encoding: the message and t+1 partials with their proofs), base64.</param>
/// <param name="Certificate">The period certificate (<c>PeriodCertificate</c> encoding), base64.</param>
/// <param name="PublicState">The public state it certifies (<c>RefreshPublicState</c> encoding), base64.</param>
public sealed record RandomProof(
    string Format, string Network, string Suite, string NetworkKey, string Application, string Input, string Message, ulong Period, string Value,
    string Output, string Certificate, string PublicState)
{
    /// <summary>The format tag of this layout.</summary>
    public const string FormatTag = "proactive-random-proof-v1";

    /// <summary>The proof as one indented JSON object (what <c>proactive random --json</c> prints).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, RandomProofJsonContext.Default.RandomProof);

    /// <summary>Parses a proof strictly (unknown members, missing ones and wrong types are refused).</summary>
    /// <exception cref="ProactiveVerificationException">Not a proof.</exception>
    public static RandomProof FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(json, RandomProofJsonContext.Default.RandomProof)
                ?? throw new ProactiveVerificationException("The proof is null.");
        }
        catch (System.Text.Json.JsonException e)
        {
            // The serializer's message names .NET types; the path is what helps a person.
            throw new ProactiveVerificationException($"Not a random proof: the JSON does not match its format ({FormatTag}) at '{e.Path ?? "$"}' (a member missing, unknown, repeated or of the wrong type).");
        }
    }
}

/// <summary>The outcome of <see cref="ProactiveClient.VerifyRandom"/>.</summary>
/// <param name="Valid">True when every check passed.</param>
/// <param name="Failure">The first check that failed; null when valid.</param>
public sealed record RandomVerification(bool Valid, string? Failure)
{
    internal static RandomVerification Ok { get; } = new(true, null);

    internal static RandomVerification Fail(string why) => new(false, why);
}

/// <summary>Strict JSON for <see cref="RandomProof"/> (written indented for people, read strictly).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(RandomProof))]
internal sealed partial class RandomProofJsonContext : JsonSerializerContext;

/// <summary>The server answers as the client reads them: unknown members are skipped (servers may add some).</summary>
internal sealed record TimeAnswer(int Server, ulong Period, DateTimeOffset Time, long UnixMilliseconds, string Nonce, string PublicKey, string Signature);

internal sealed record RandomRequestBody(string Input);

internal sealed record RandomAnswer(int Server, ulong Period, string Input, string Message, RandomPartialAnswer Partial);

internal sealed record RandomPartialAnswer(int Server, string Value, string Proof, string Encoding);

internal sealed record PeriodCertificateAnswer(ulong Period, string Certificate, string? PublicState);

/// <summary>A problem document; every member optional, so that a partial one still yields what it has.</summary>
internal sealed record ProblemAnswer(string? Type = null, string? Title = null, int? Status = null, string? Detail = null, string? Code = null);

/// <summary>Source-generated JSON of the wire bodies (camelCase; nulls and required members respected).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ClusterInfo))]
[JsonSerializable(typeof(TimeAnswer))]
[JsonSerializable(typeof(RandomRequestBody))]
[JsonSerializable(typeof(RandomAnswer))]
[JsonSerializable(typeof(PeriodCertificateAnswer))]
[JsonSerializable(typeof(ProblemAnswer))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;

/// <summary>JSON of the results for people and scripts (indented, camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(TimeVector))]
internal sealed partial class ClientOutputJsonContext : JsonSerializerContext;
