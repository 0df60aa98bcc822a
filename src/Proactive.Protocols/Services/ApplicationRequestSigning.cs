// References: toolkit (seed 001) section 5.1 (every request carries the application's handle and is
// uniquely associated with the application it came from); docs/API.md "Applications: authentication"
// (the header scheme, decided by the lead for issue 5).
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Proactive.Protocols.Services;

/// <summary>
/// The byte string an application instance signs for every authenticated API request, shared by the
/// server that checks it and the client SDK that makes it, so the two can never disagree on a byte.
/// </summary>
/// <remarks>
/// <para>The signed bytes are the UTF-8 encoding of
/// <c>"proactive-request-v1\n" + networkIdHex + "\n" + handle + "\n" + METHOD + "\n" + pathAndQuery + "\n"
/// + timestamp + "\n" + nonce + "\n" + hex(SHA-256(body))</c>. The label and the network id keep a
/// signature made for one network, or for anything else the key signs, from being replayed here; the
/// method and the exact request target keep it from being moved to another route; the body hash binds
/// the body; the timestamp and the nonce let the server refuse replays with a bounded memory.</para>
/// <para>No field may contain a line feed (HTTP header values and request targets cannot), so the
/// string splits one way only.</para>
/// </remarks>
public static class ApplicationRequestSigning
{
    /// <summary>The header naming the instance (<c>app_&lt;32 hex&gt;_&lt;instance&gt;</c>, or <see cref="RegistrationHandle"/>).</summary>
    public const string HandleHeader = "Proactive-Handle";

    /// <summary>The header with the client's Unix time in milliseconds, decimal.</summary>
    public const string TimestampHeader = "Proactive-Timestamp";

    /// <summary>The header with 16 random bytes as 32 lowercase hex digits, new for every request.</summary>
    public const string NonceHeader = "Proactive-Nonce";

    /// <summary>The header with the Ed25519 signature, standard padded base64 of its 64 bytes.</summary>
    public const string SignatureHeader = "Proactive-Signature";

    /// <summary>The handle a registration request carries: the instance has no handle yet.</summary>
    public const string RegistrationHandle = "new";

    /// <summary>The first line of the signed string; a new layout gets a new label.</summary>
    public const string Label = "proactive-request-v1";

    /// <summary>Bytes of a nonce.</summary>
    public const int NonceLength = 16;

    /// <summary>
    /// How far a request's timestamp may be from the server's clock, either way. It bounds how long the
    /// server must remember nonces, and how long a captured request could be replayed elsewhere.
    /// </summary>
    public static readonly TimeSpan TimestampWindow = TimeSpan.FromSeconds(120);

    /// <summary>The UTF-8 bytes to sign or verify (see the remarks for the layout).</summary>
    /// <param name="networkIdHex">The network id as <c>GET /v1/cluster</c> gives it (32 lowercase hex digits).</param>
    /// <param name="handle">The <see cref="HandleHeader"/> value.</param>
    /// <param name="method">The HTTP method, as sent (<c>GET</c>, <c>POST</c>).</param>
    /// <param name="pathAndQuery">The request target exactly as sent, e.g. <c>/v1/data/abc?x=1</c>.</param>
    /// <param name="timestamp">The <see cref="TimestampHeader"/> value, exactly as sent.</param>
    /// <param name="nonce">The <see cref="NonceHeader"/> value.</param>
    /// <param name="body">The request body as sent (empty when there is none).</param>
    /// <exception cref="ArgumentException">A field is empty or holds a line feed.</exception>
    public static byte[] SigningBytes(string networkIdHex, string handle, string method, string pathAndQuery, string timestamp, string nonce, ReadOnlySpan<byte> body)
    {
        var text = new StringBuilder(Label.Length + 256)
            .Append(Label).Append('\n')
            .Append(Field(networkIdHex, nameof(networkIdHex))).Append('\n')
            .Append(Field(handle, nameof(handle))).Append('\n')
            .Append(Field(method, nameof(method))).Append('\n')
            .Append(Field(pathAndQuery, nameof(pathAndQuery))).Append('\n')
            .Append(Field(timestamp, nameof(timestamp))).Append('\n')
            .Append(Field(nonce, nameof(nonce))).Append('\n')
            .Append(BodyHash(body))
            .ToString();
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>hex(SHA-256(body)), lowercase; an empty body hashes the empty string.</summary>
    public static string BodyHash(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>The <see cref="TimestampHeader"/> value for <paramref name="time"/>.</summary>
    public static string FormatTimestamp(DateTimeOffset time) =>
        time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static string Field(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        if (value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("A signed field cannot hold a line feed.", name);
        }

        return value;
    }
}
