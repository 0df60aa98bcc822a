using System.Text;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Api;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Services;

namespace Proactive.Node.Tests.Support;

/// <summary>A clock a test sets.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Requests signed by the scheme of docs/API.md, built by hand (independently of the client SDK).</summary>
internal static class SignedRequests
{
    public static string NewNonce()
    {
        var nonce = new byte[ApplicationRequestSigning.NonceLength];
        SystemRandomSource.Instance.Fill(nonce);
        return Convert.ToHexStringLower(nonce);
    }

    /// <summary>The four headers' values for a request.</summary>
    public static Dictionary<string, string> Headers(
        NetworkId network, string handle, Ed25519PrivateKey key, string method, string pathAndQuery, byte[] body, DateTimeOffset now, string? nonce = null)
    {
        var timestamp = ApplicationRequestSigning.FormatTimestamp(now);
        nonce ??= NewNonce();
        var signature = key.Sign(ApplicationRequestSigning.SigningBytes(network.ToString(), handle, method, pathAndQuery, timestamp, nonce, body));
        return new Dictionary<string, string>
        {
            [ApplicationRequestSigning.HandleHeader] = handle,
            [ApplicationRequestSigning.TimestampHeader] = timestamp,
            [ApplicationRequestSigning.NonceHeader] = nonce,
            [ApplicationRequestSigning.SignatureHeader] = Convert.ToBase64String(signature),
        };
    }

    public static HttpRequestMessage Create(
        NetworkId network, ApplicationInstance instance, Ed25519PrivateKey key, HttpMethod method, string pathAndQuery, string? json = null, DateTimeOffset? now = null, string? nonce = null) =>
        Create(network, instance.Handle, key, method, pathAndQuery, json, now, nonce);

    /// <summary>A request signed as <paramref name="handle"/> (<c>new</c> for a registration, signed with the key it registers).</summary>
    public static HttpRequestMessage Create(
        NetworkId network, string handle, Ed25519PrivateKey key, HttpMethod method, string pathAndQuery, string? json = null, DateTimeOffset? now = null, string? nonce = null)
    {
        var body = json is null ? [] : Encoding.UTF8.GetBytes(json);
        var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        foreach (var (name, value) in Headers(network, handle, key, method.Method, pathAndQuery, body, now ?? DateTimeOffset.UtcNow, nonce))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }
}
