// References: toolkit (seed 001) section 5.1 (a handle appended to every request associates it with the
// registered application); docs/API.md "Applications: authentication" (the four headers, the signed
// string, the refusals and their codes); RFC 8032 (Ed25519).
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Primitives;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Services;

namespace Proactive.Node.Api;

/// <summary>The headers of an authenticated request, parsed (nothing verified yet).</summary>
/// <param name="Handle">The <c>Proactive-Handle</c> value.</param>
/// <param name="Timestamp">The <c>Proactive-Timestamp</c> value, as sent (it is signed as text).</param>
/// <param name="TimestampMs">The timestamp, parsed.</param>
/// <param name="Nonce">The <c>Proactive-Nonce</c> value, as sent.</param>
/// <param name="NonceValue">The nonce's 16 bytes as one number (the replay cache's key).</param>
/// <param name="Signature">The 64 signature bytes.</param>
public sealed record AuthenticationHeaders(string Handle, string Timestamp, long TimestampMs, string Nonce, UInt128 NonceValue, byte[] Signature);

/// <summary>
/// Checks the signature scheme of every authenticated request (docs/API.md): the four headers, the
/// handle against <see cref="IApplicationDirectory"/>, the timestamp against this server's clock, the
/// Ed25519 signature over <see cref="ApplicationRequestSigning.SigningBytes"/>, and the nonce against
/// replays. Refusals are results, never exceptions. Thread-safe.
/// </summary>
/// <remarks>
/// <para>Order of the checks, cheapest first and none that costs a signature verification before the
/// handle is known: headers (401 <c>unauthenticated</c>), handle (401 <c>unknown-handle</c>), timestamp
/// within <see cref="ApplicationRequestSigning.TimestampWindow"/> (401 <c>stale-request</c>), signature
/// (401 <c>bad-signature</c>), nonce (409 <c>replayed-request</c>; 503 <c>busy</c> when the replay
/// cache is full). A nonce is recorded only once the signature verified.</para>
/// </remarks>
public sealed class RequestAuthenticator
{
    private const int MaxHandleLength = 64;
    private const int ApplicationIdHexLength = ApplicationRandomness.ApplicationIdLength * 2;

    private readonly string _networkIdHex;
    private readonly IApplicationDirectory? _directory;
    private readonly TimeProvider _time;
    private readonly NonceReplayCache _nonces;

    /// <param name="network">This network's id (signed in every request).</param>
    /// <param name="directory">The registered instances; none: every handle is unknown.</param>
    /// <param name="time">This server's clock.</param>
    /// <param name="nonces">The replay cache (a default-sized one when null).</param>
    public RequestAuthenticator(NetworkId network, IApplicationDirectory? directory, TimeProvider? time = null, NonceReplayCache? nonces = null)
    {
        _networkIdHex = network.ToString();
        _directory = directory;
        _time = time ?? TimeProvider.System;
        _nonces = nonces ?? new NonceReplayCache();
    }

    /// <summary>
    /// Authenticates a request of a registered instance: <paramref name="pathAndQuery"/> is the request
    /// target exactly as received, <paramref name="body"/> the body exactly as received.
    /// </summary>
    public bool TryAuthenticate(
        string method, string pathAndQuery, IHeaderDictionary headers, ReadOnlySpan<byte> body,
        [NotNullWhen(true)] out AuthenticatedApplication? application, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        application = null;
        if (!TryParseHeaders(headers, out var parsed, out error))
        {
            return false;
        }

        if (parsed.Handle == ApplicationRequestSigning.RegistrationHandle)
        {
            error = new ApiError(ApiProblems.UnknownHandle, $"The handle '{ApplicationRequestSigning.RegistrationHandle}' only registers an instance (POST /v1/apps); other requests carry the handle registration returned.");
            return false;
        }

        if (_directory is null || !_directory.TryGetInstance(parsed.Handle, out var found))
        {
            error = new ApiError(ApiProblems.UnknownHandle, $"No application instance is registered with the handle '{parsed.Handle}' on this network.");
            return false;
        }

        if (!TryVerify(method, pathAndQuery, body, parsed, found.VerifyingKey, parsed.Handle, out error))
        {
            return false;
        }

        application = new AuthenticatedApplication(found, parsed);
        return true;
    }

    /// <summary>
    /// Authenticates a registration request (handle <c>new</c>): the instance has no handle yet, so the
    /// signature is checked under <paramref name="publicKey"/>, the key the request registers (proof of
    /// possession), and its nonces are kept per key.
    /// </summary>
    public bool TryAuthenticateRegistration(
        string method, string pathAndQuery, IHeaderDictionary headers, ReadOnlySpan<byte> body, Ed25519PublicKey publicKey,
        [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(publicKey);
        if (!TryParseHeaders(headers, out var parsed, out error))
        {
            return false;
        }

        if (parsed.Handle != ApplicationRequestSigning.RegistrationHandle)
        {
            error = new ApiError(ApiProblems.Unauthenticated, $"A registration carries the handle '{ApplicationRequestSigning.RegistrationHandle}'.");
            return false;
        }

        return TryVerify(method, pathAndQuery, body, parsed, publicKey, "new:" + Convert.ToHexStringLower(publicKey.Bytes), out error);
    }

    /// <summary>
    /// The checks of a request the ledger will judge: the headers well-formed and the timestamp within
    /// the window of this server's clock. The handle, the signature and replays are judged by the ledger
    /// at every server (an exact copy of a request is the same request there: a resend of a pending one
    /// waits for its answer, a copy of an applied one is refused as a replay), so no nonce is recorded here.
    /// </summary>
    public bool TryCheckSubmission(IHeaderDictionary headers, [NotNullWhen(true)] out AuthenticationHeaders? parsed, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!TryParseHeaders(headers, out parsed, out error))
        {
            return false;
        }

        if (!IsTimely(parsed, _time.GetUtcNow().ToUnixTimeMilliseconds(), out error))
        {
            parsed = null;
            return false;
        }

        return true;
    }

    /// <summary>Parses the four headers: each present once and well-formed, or 401 <c>unauthenticated</c> naming the first that is not.</summary>
    public static bool TryParseHeaders(IHeaderDictionary headers, [NotNullWhen(true)] out AuthenticationHeaders? parsed, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        parsed = null;
        if (!TryGetSingle(headers, ApplicationRequestSigning.HandleHeader, out var handle, out error)
            || !TryGetSingle(headers, ApplicationRequestSigning.TimestampHeader, out var timestamp, out error)
            || !TryGetSingle(headers, ApplicationRequestSigning.NonceHeader, out var nonce, out error)
            || !TryGetSingle(headers, ApplicationRequestSigning.SignatureHeader, out var signature, out error))
        {
            return false;
        }

        if (!IsWellFormedHandle(handle))
        {
            error = Garbled(ApplicationRequestSigning.HandleHeader, $"app_<32 lowercase hex>_<instance 0..{ushort.MaxValue}> or '{ApplicationRequestSigning.RegistrationHandle}'");
            return false;
        }

        // Canonical decimal only (no sign, no leading zeros): the ledger re-creates the signed text from the number.
        if (timestamp.Length is 0 or > 15 || !timestamp.All(char.IsAsciiDigit) || (timestamp.Length > 1 && timestamp[0] == '0')
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var timestampMs))
        {
            error = Garbled(ApplicationRequestSigning.TimestampHeader, "the Unix time in milliseconds, decimal digits without leading zeros");
            return false;
        }

        Span<byte> nonceBytes = stackalloc byte[ApplicationRequestSigning.NonceLength];
        if (!IsLowerHex(nonce, ApplicationRequestSigning.NonceLength * 2) || Convert.FromHexString(nonce, nonceBytes, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            error = Garbled(ApplicationRequestSigning.NonceHeader, $"{ApplicationRequestSigning.NonceLength * 2} lowercase hex digits");
            return false;
        }

        var signatureBytes = new byte[Ed25519PublicKey.SignatureLength];
        if (!Convert.TryFromBase64String(signature, signatureBytes, out var written) || written != Ed25519PublicKey.SignatureLength
            || Convert.ToBase64String(signatureBytes) != signature)
        {
            error = Garbled(ApplicationRequestSigning.SignatureHeader, $"standard padded base64 of the {Ed25519PublicKey.SignatureLength}-byte Ed25519 signature");
            return false;
        }

        var nonceValue = new UInt128(BinaryPrimitives.ReadUInt64BigEndian(nonceBytes), BinaryPrimitives.ReadUInt64BigEndian(nonceBytes[8..]));
        parsed = new AuthenticationHeaders(handle, timestamp, timestampMs, nonce, nonceValue, signatureBytes);
        error = null;
        return true;
    }

    private bool TryVerify(
        string method, string pathAndQuery, ReadOnlySpan<byte> body, AuthenticationHeaders parsed, Ed25519PublicKey key, string replayKey,
        [NotNullWhen(false)] out ApiError? error)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var window = (long)ApplicationRequestSigning.TimestampWindow.TotalMilliseconds;
        if (!IsTimely(parsed, now, out error))
        {
            return false;
        }

        var signed = ApplicationRequestSigning.SigningBytes(_networkIdHex, parsed.Handle, method, pathAndQuery, parsed.Timestamp, parsed.Nonce, body);
        if (!key.Verify(signed, parsed.Signature))
        {
            error = new ApiError(ApiProblems.BadSignature, "The signature does not verify under the instance's key for this network, method, path, timestamp, nonce and body.");
            return false;
        }

        switch (_nonces.TryRecord(replayKey, parsed.NonceValue, parsed.TimestampMs + window + 1, now, out var retryAfter))
        {
            case NonceCheck.Replayed:
                error = new ApiError(ApiProblems.ReplayedRequest, "This nonce was already used by this instance within the timestamp window; every request needs a new one.");
                return false;
            case NonceCheck.Full:
                error = new ApiError(ApiProblems.Busy, "The server remembers as many recent requests as it can hold; try again once older ones expire.", retryAfter);
                return false;
            default:
                error = null;
                return true;
        }
    }

    private static bool IsTimely(AuthenticationHeaders parsed, long now, [NotNullWhen(false)] out ApiError? error)
    {
        var window = (long)ApplicationRequestSigning.TimestampWindow.TotalMilliseconds;
        if (Math.Abs(now - parsed.TimestampMs) > window)
        {
            error = new ApiError(ApiProblems.StaleRequest, $"The request's timestamp is {FormatSkew(parsed.TimestampMs - now)} this server's clock; at most {window / 1000} s either way is accepted. Check the client's clock.");
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryGetSingle(IHeaderDictionary headers, string name, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out ApiError? error)
    {
        value = null;
        error = null;
        if (!headers.TryGetValue(name, out StringValues values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            error = new ApiError(ApiProblems.Unauthenticated, $"The header {name} is missing; authenticated requests carry {ApplicationRequestSigning.HandleHeader}, {ApplicationRequestSigning.TimestampHeader}, {ApplicationRequestSigning.NonceHeader} and {ApplicationRequestSigning.SignatureHeader}.");
            return false;
        }

        if (values.Count > 1)
        {
            error = new ApiError(ApiProblems.Unauthenticated, $"The header {name} is given {values.Count} times; give it once.");
            return false;
        }

        value = values[0]!;
        return true;
    }

    private static ApiError Garbled(string header, string expected) =>
        new(ApiProblems.Unauthenticated, $"The header {header} is garbled; it must be {expected}.");

    /// <summary><c>new</c>, or <c>app_</c> + 32 lowercase hex + <c>_</c> + an instance number without leading zeros.</summary>
    private static bool IsWellFormedHandle(string handle)
    {
        if (handle == ApplicationRequestSigning.RegistrationHandle)
        {
            return true;
        }

        const string prefix = "app_";
        if (handle.Length > MaxHandleLength || !handle.StartsWith(prefix, StringComparison.Ordinal)
            || handle.Length < prefix.Length + ApplicationIdHexLength + 2 || handle[prefix.Length + ApplicationIdHexLength] != '_'
            || !IsLowerHex(handle.AsSpan(prefix.Length, ApplicationIdHexLength), ApplicationIdHexLength))
        {
            return false;
        }

        var instance = handle.AsSpan(prefix.Length + ApplicationIdHexLength + 1);
        return instance.Length <= 5 && (instance is "0" || (instance[0] != '0' && !instance.ContainsAnyExceptInRange('0', '9')))
            && int.TryParse(instance, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= ushort.MaxValue;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> text, int length)
    {
        if (text.Length != length)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static string FormatSkew(long skewMs) =>
        skewMs > 0
            ? $"{(skewMs / 1000.0).ToString("F1", CultureInfo.InvariantCulture)} s ahead of"
            : $"{(-skewMs / 1000.0).ToString("F1", CultureInfo.InvariantCulture)} s behind";
}

/// <summary>
/// The application instance an authenticated request came from, set on the request's features by the
/// API before its handler runs (<c>HttpContext.Features.Get&lt;AuthenticatedApplication&gt;()</c>).
/// </summary>
/// <param name="Instance">The resolved instance.</param>
/// <param name="Headers">The request's authentication headers (its nonce, its timestamp), verified.</param>
public sealed record AuthenticatedApplication(ApplicationInstance Instance, AuthenticationHeaders Headers);
