// References: toolkit (seed 001) section 5.1 (a request is associated with the application it came
// from; distributed applications: served only when a majority of instances asked); docs/API.md
// "Authentication" (the header scheme this mirrors byte for byte).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Signing;

namespace Proactive.Protocols.Application;

/// <summary>
/// An application's HTTP request exactly as its client signed it: what the network agrees on and
/// applies. Carrying the client's own signature (not the word of the server that received it) means no
/// server can invent, alter or replay an operation on an application's behalf: every server checks the
/// signature itself before it votes for a batch that contains the request.
/// </summary>
/// <remarks>
/// <para>Signed bytes (UTF-8, see <see cref="Services.ApplicationRequestSigning.SigningBytes"/>): <c>"proactive-request-v1\n" networkHex "\n" handle
/// "\n" METHOD "\n" pathAndQuery "\n" timestamp "\n" nonceHex "\n" hex(SHA-256(body))</c>. The same string the
/// HTTP layer checks, so a request that passed the API's check passes here.</para>
/// <para>Encoding, version 1: u8 version, string handle (≤ <see cref="MaxHandleLength"/>), string method
/// (≤ 8), string path (≤ <see cref="MaxPathLength"/>), u64 timestamp (unix ms), 16-byte nonce, bytes body
/// (≤ <see cref="MaxBodyLength"/>), 64-byte signature. Nothing after it.</para>
/// </remarks>
public sealed class SignedRequest
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The handle of a registration request (the key it registers signs it).</summary>
    public const string NewHandle = "new";

    /// <summary>Longest handle.</summary>
    public const int MaxHandleLength = 64;

    /// <summary>Longest path and query.</summary>
    public const int MaxPathLength = 1024;

    /// <summary>Largest body: 1 MiB of value plus its JSON and base64 overhead.</summary>
    public const int MaxBodyLength = (1 << 20) * 4 / 3 + 64 * 1024;

    /// <summary>Nonce length.</summary>
    public const int NonceLength = 16;

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE"];

    private readonly byte[] _nonce;
    private readonly byte[] _body;
    private readonly byte[] _signature;
    private byte[]? _id;

    /// <summary>A request as received (nothing checked but the lengths: see <see cref="Verify"/>).</summary>
    public SignedRequest(string handle, string method, string pathAndQuery, ulong timestamp, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        if (!IsField(handle) || !IsField(pathAndQuery)
            || Encoding.UTF8.GetByteCount(handle) > MaxHandleLength || !Methods.Contains(method, StringComparer.Ordinal)
            || Encoding.UTF8.GetByteCount(pathAndQuery) > MaxPathLength || nonce.Length != NonceLength
            || body.Length > MaxBodyLength || signature.Length != Ed25519PublicKey.SignatureLength)
        {
            throw new ArgumentException("A field of the request is out of range (handle, method, path, nonce, body or signature length).");
        }

        Handle = handle;
        Method = method;
        PathAndQuery = pathAndQuery;
        Timestamp = timestamp;
        _nonce = nonce.ToArray();
        _body = body.ToArray();
        _signature = signature.ToArray();
    }

    /// <summary>The handle the request names (<see cref="NewHandle"/> for a registration).</summary>
    public string Handle { get; }

    /// <summary>The HTTP method.</summary>
    public string Method { get; }

    /// <summary>The path and query, as sent.</summary>
    public string PathAndQuery { get; }

    /// <summary>The client's clock at signing, unix milliseconds.</summary>
    public ulong Timestamp { get; }

    /// <summary>The client's random nonce.</summary>
    public ReadOnlySpan<byte> Nonce => _nonce;

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Body => _body;

    /// <summary>The Ed25519 signature.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>SHA-256 of the encoding: the request's identity in the ledger (a second copy is the same request).</summary>
    public byte[] Id => _id ??= SHA256.HashData(Encode());

    /// <summary>Whether <paramref name="key"/> signed this request for the network <paramref name="networkHex"/>.</summary>
    public bool Verify(string networkHex, Ed25519PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signed = Services.ApplicationRequestSigning.SigningBytes(networkHex, Handle, Method, PathAndQuery, Timestamp.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(_nonce), _body);
        return key.Verify(signed, _signature);
    }

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(_body.Length + 256);
        var writer = new CanonicalWriter(output);
        writer.WriteU8(FormatVersion);
        writer.WriteString(Handle, MaxHandleLength);
        writer.WriteString(Method, 8);
        writer.WriteString(PathAndQuery, MaxPathLength);
        writer.WriteU64(Timestamp);
        writer.WriteFixedBytes(_nonce);
        writer.WriteBytes(_body, MaxBodyLength);
        writer.WriteFixedBytes(_signature);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes one request (reads its fields from <paramref name="reader"/>).</summary>
    public static bool TryRead(ref CanonicalReader reader, [NotNullWhen(true)] out SignedRequest? request)
    {
        request = null;
        if (!reader.TryReadU8(out var version, "version") || version != FormatVersion
            || !reader.TryReadString(MaxHandleLength, out var handle, "handle")
            || !reader.TryReadString(8, out var method, "method")
            || !reader.TryReadString(MaxPathLength, out var path, "path")
            || !reader.TryReadU64(out var timestamp, "timestamp")
            || !reader.TryReadFixedBytes(NonceLength, out var nonce, "nonce")
            || !reader.TryReadBytes(MaxBodyLength, out var body, "body")
            || !reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "signature")
            || !Methods.Contains(method, StringComparer.Ordinal) || !IsField(handle) || !IsField(path))
        {
            return false;
        }

        request = new SignedRequest(handle, method, path, timestamp, nonce, body, signature);
        return true;
    }

    /// <summary>A field of the signed text: not empty, no line feed (the text separates fields by them).</summary>
    private static bool IsField(string value) => value.Length > 0 && !value.Contains('\n', StringComparison.Ordinal);

    /// <summary>Decodes a whole encoding (nothing after it).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out SignedRequest? request)
    {
        var reader = new CanonicalReader(encoded);
        return TryRead(ref reader, out request) && reader.TryReadEnd() || (request = null) is not null;
    }
}
