// References: docs/API.md "Applications: bulk import, joint secrets, period keys, links" (the bodies these
// mirror); toolkit (seed 001) sections 5.3 (GenerateJointSecret) and 5.4 (proactive keys certified as
// (K, t); communication links between instances).
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Proactive.Client;

/// <summary>
/// An application instance's key of one period, certified by the network key (toolkit 5.4): the statement
/// <c>ApplicationPeriodKeys.Statement</c> binds the key to the network, the application, the instance and the
/// period, and the certificate is the network key's signature over it. Anyone who trusts the network key
/// checks it offline (<see cref="ProactiveClient.VerifyPeriodKey"/>).
/// </summary>
/// <param name="Network">The network id, hex.</param>
/// <param name="Suite">The network key's suite (for <c>ed25519</c> the certificate is a standard RFC 8032 signature).</param>
/// <param name="Period">The period the key is for.</param>
/// <param name="ApplicationId">The application id, hex.</param>
/// <param name="Instance">The instance the key belongs to.</param>
/// <param name="PublicKey">The certified key (32 bytes), hex.</param>
/// <param name="NetworkKey">The network key that signed, hex.</param>
/// <param name="Statement">The signed statement, hex.</param>
/// <param name="Certificate">The signature, hex.</param>
public sealed record PeriodKeyCertificate(
    string Network, string Suite, ulong Period, string ApplicationId, int Instance, string PublicKey, string NetworkKey, string Statement, string Certificate)
{
    /// <summary>One JSON object (what <c>proactive period-key register --json</c> prints and <c>period-key verify</c> reads).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, CommunicationOutputJsonContext.Default.PeriodKeyCertificate);

    /// <summary>Reads <see cref="ToJson"/>'s output; null when it is not one.</summary>
    public static PeriodKeyCertificate? FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize(json, CommunicationInputJsonContext.Default.PeriodKeyCertificate);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A message another instance of the application sent this one over the servers' channels.</summary>
/// <param name="From">The sending instance (its server checked the sender's signature).</param>
/// <param name="SentAt">When the sender signed it (its clock).</param>
/// <param name="Payload">The message.</param>
public sealed record LinkMessage(int From, DateTimeOffset SentAt, byte[] Payload);

/// <summary>
/// A joint secret (toolkit GenerateJointSecret, random value) rebuilt by its owner: t+1 shares of one
/// sharing, each checked against that sharing's Feldman commitments, interpolated, and the result checked
/// against the public value g^x that f+1 servers describe.
/// </summary>
/// <param name="Id">The joint secret's id.</param>
/// <param name="Suite">The suite (the group the value is a scalar of).</param>
/// <param name="Value">The secret: the scalar's canonical encoding in the suite (little-endian for ed25519 and ristretto255, big-endian for p256).</param>
/// <param name="PublicValue">g^x, hex.</param>
/// <param name="Sharing">Which sharing the shares came from (<c>dkg</c>, or <c>p{period}</c> once refreshed).</param>
/// <param name="Servers">The servers whose shares made it.</param>
/// <param name="Failures">Servers asked whose shares were not used, and why.</param>
public sealed record JointSecret(string Id, string Suite, byte[] Value, string PublicValue, string Sharing, IReadOnlyList<int> Servers, IReadOnlyDictionary<int, string> Failures);

/// <summary>Results as people and scripts read them (indented, camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(PeriodKeyCertificate))]
internal sealed partial class CommunicationOutputJsonContext : JsonSerializerContext;

/// <summary>What the client reads back of its own output: strictly (every member, nothing else).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(PeriodKeyCertificate))]
internal sealed partial class CommunicationInputJsonContext : JsonSerializerContext;

/// <summary>The bodies of the communication and joint-secret routes as the client sends and reads them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(PeriodKeyRequestBody))]
[JsonSerializable(typeof(PeriodKeyAnswer))]
[JsonSerializable(typeof(LinkSendBody))]
[JsonSerializable(typeof(LinkSentAnswer))]
[JsonSerializable(typeof(LinkMessagesAnswer))]
[JsonSerializable(typeof(JointShareAnswer))]
internal sealed partial class CommunicationJsonContext : JsonSerializerContext;

internal sealed record PeriodKeyRequestBody(string PublicKey, ulong Period);

internal sealed record PeriodKeyAnswer(ulong Period, int Instance, string ApplicationId, string PublicKey, string NetworkKey, string Statement, string Certificate);

internal sealed record LinkSendBody(int To, string Payload);

internal sealed record LinkSentAnswer(string Status);

internal sealed record LinkMessageAnswer(int From, DateTimeOffset SentAt, string Payload);

internal sealed record LinkMessagesAnswer(IReadOnlyList<LinkMessageAnswer> Messages);

internal sealed record JointShareAnswer(string Id, int Server, string Sharing, string PublicKey, string Commitment, string Share);
