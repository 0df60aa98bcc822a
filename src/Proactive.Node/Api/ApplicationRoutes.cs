// References: toolkit (seed 001) section 5 (registration, data storage); docs/BRIEF.md section 5;
// RFC 9457 (problem details); docs/API.md "Applications".
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Proactive.Protocols.Application;

namespace Proactive.Node.Api;

/// <summary>
/// The application routes: operations the network must agree on (registration, store, write) go to the
/// ledger as the client signed them; reads are answered from this server's agreed state after the
/// request's signature is checked here.
/// </summary>
/// <remarks>
/// Authentication is the <c>Proactive-*</c> header scheme of docs/API.md. For operations the ledger is the
/// judge (every server checks the signature before it votes for a batch); the checks here only give the
/// client a clear answer early.
/// </remarks>
public static class ApplicationRoutes
{
    /// <summary>Registration.</summary>
    public const string AppsPath = "/v1/apps";

    /// <summary>The calling application.</summary>
    public const string SelfPath = "/v1/apps/self";

    /// <summary>Data entries.</summary>
    public const string DataPath = "/v1/data";

    /// <summary>Application signing keys.</summary>
    public const string KeysPath = "/v1/keys";

    /// <summary>GenerateJointSecret with a random value (a DKG; the owner may reconstruct it).</summary>
    public const string JointSecretsPath = "/v1/joint-secrets";

    /// <summary>Links between instances: send (POST) and receive (GET).</summary>
    public const string LinksPath = "/v1/links/messages";

    /// <summary>Where a client fetches the key to seal dealt shares to.</summary>
    public const string DealingKeyPath = "/v1/dealing-key";

    /// <summary>Dealt shares.</summary>
    public const string DealingsPath = "/v1/dealings";

    /// <summary>How far a request's timestamp may be from this server's clock.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(120);

    private const string SignedBodyItem = "proactive.signed-body";

    /// <summary>Paths whose routes take a body (the API refuses bodies elsewhere).</summary>
    public static bool TakesBody(PathString path) => path.StartsWithSegments(JointSecretsPath) || path.StartsWithSegments(LinksPath) || path.StartsWithSegments(ApplicationPeriodKeys.Path) || path.StartsWithSegments(AppsPath) || path.StartsWithSegments(DataPath) || path.StartsWithSegments(DealingsPath) || path.StartsWithSegments(KeysPath);

    /// <summary>Maps the routes onto <paramref name="app"/>.</summary>
    public static void Map(WebApplication app, IApplicationGateway gateway, IApplicationDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(directory);
        var submit = new RequestDelegate(context => SubmitAsync(context, gateway.SubmitAsync));
        app.MapPost(AppsPath, submit);
        app.MapPost(DataPath, submit);
        app.MapPut(DataPath + "/{id}", submit);
        app.MapGet(DataPath + "/{id}", new RequestDelegate(context => ReadAsync(context, gateway, directory, ReadDataOf(context, gateway))));
        app.MapGet(SelfPath, new RequestDelegate(context => ReadAsync(context, gateway, directory, gateway.DescribeApplicationAsync)));
        app.MapGet(DataPath + "/{id}/share", new RequestDelegate(context => ReadAsync(context, gateway, directory, ReadShareOf(context, gateway))));
        app.MapPost(DataPath + "/{id}/release", submit);
        app.MapPost(KeysPath, new RequestDelegate(context => SubmitAsync(context, gateway.GenerateKeyAsync)));
        app.MapGet(KeysPath + "/{id}", new RequestDelegate(context => ReadAsync(context, gateway, directory, DescribeKeyOf(context, gateway))));
        app.MapPost(KeysPath + "/{id}/sign", new RequestDelegate(context => SubmitAsync(context, gateway.SignAsync)));
        app.MapPost(KeysPath + "/{id}/approve", submit);
        app.MapPost(ApplicationPeriodKeys.Path, new RequestDelegate(context => SubmitAsync(context, gateway.SignAsync)));
        app.MapPost(JointSecretsPath, new RequestDelegate(context => SubmitAsync(context, gateway.GenerateKeyAsync)));
        app.MapGet(JointSecretsPath + "/{id}", new RequestDelegate(context => ReadAsync(context, gateway, directory, DescribeKeyOf(context, gateway))));
        app.MapGet(JointSecretsPath + "/{id}/share", new RequestDelegate(context => ReadAsync(context, gateway, directory, JointSecretShareOf(context, gateway))));
        app.MapPost(LinksPath, new RequestDelegate(context => SubmitAsync(context, gateway.SendLinkMessageAsync)));
        app.MapGet(LinksPath, new RequestDelegate(context => ReadAsync(context, gateway, directory, gateway.ReceiveLinkMessagesAsync)));
        app.MapGet(DealingKeyPath, new RequestDelegate(context => AnswerAsync(context, gateway.DealingKeyAsync)));
        app.MapPost(DataPath + "/batch", submit);
        app.MapPut(DealingsPath, new RequestDelegate(context => ReadAsync(context, gateway, directory, DealtSharesOf(context, gateway))));
        app.MapPut(DealingsPath + "/{dealing}", new RequestDelegate(context => ReadAsync(context, gateway, directory, DealtShareOf(context, gateway))));
    }

    private static Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> ReadDataOf(HttpContext context, IApplicationGateway gateway)
    {
        var id = Uri.UnescapeDataString((string)context.Request.RouteValues["id"]!);
        return (instance, token) => gateway.ReadDataAsync(instance, id, token);
    }

    private static Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> ReadShareOf(HttpContext context, IApplicationGateway gateway)
    {
        var id = Uri.UnescapeDataString((string)context.Request.RouteValues["id"]!);
        var to = context.Request.Query["to"];
        return (instance, token) => to.Count == 1 && to[0] is { Length: 64 } hex && hex.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c))
            ? gateway.ReadShareAsync(instance, id, Convert.FromHexString(hex), token)
            : Task.FromResult(ApplyResult.Refused(400, "invalid-request", "Give 'to' once: the X25519 public key (64 lowercase hex digits) to seal the share to."));
    }

    private static Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> DealtSharesOf(HttpContext context, IApplicationGateway gateway) =>
        async (instance, token) =>
        {
            var body = (byte[])context.Items[SignedBodyItem]!;
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Count() != 2
                    || !root.TryGetProperty("period", out var period) || !period.TryGetUInt64(out var periodNumber)
                    || !root.TryGetProperty("shares", out var shares) || shares.ValueKind != JsonValueKind.String || !shares.TryGetBytesFromBase64(out var sealedShares))
                {
                    return ApplyResult.Refused(400, "invalid-request", "The body is { \"period\": the period of the key the shares are sealed to, \"shares\": base64 of the HPKE-sealed (dealing || share) entries }.");
                }

                return await gateway.AcceptDealtSharesAsync(instance, periodNumber, sealedShares, token).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                return ApplyResult.Refused(400, "malformed-json", $"The body is not valid JSON: {e.Message}");
            }
        };

    private static Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> JointSecretShareOf(HttpContext context, IApplicationGateway gateway)
    {
        var id = Uri.UnescapeDataString((string)context.Request.RouteValues["id"]!);
        var to = context.Request.Query["to"];
        return (instance, token) => to.Count == 1 && to[0] is { Length: 64 } hex && hex.All(char.IsAsciiHexDigitLower)
            ? gateway.ReadJointSecretShareAsync(instance, id, Convert.FromHexString(hex), token)
            : Task.FromResult(ApplyResult.Refused(400, "invalid-request", "Give 'to' once: the X25519 public key (64 lowercase hex digits) to seal the share to."));
    }

    private static Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> DealtShareOf(HttpContext context, IApplicationGateway gateway)
    {
        var dealingHex = (string)context.Request.RouteValues["dealing"]!;
        return async (instance, token) =>
        {
            if (dealingHex.Length != 32 || !dealingHex.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c)))
            {
                return ApplyResult.Refused(400, "invalid-request", "A dealing id is 32 lowercase hex digits.");
            }

            var body = (byte[])context.Items[SignedBodyItem]!;
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Count() != 2
                    || !root.TryGetProperty("period", out var period) || !period.TryGetUInt64(out var periodNumber)
                    || !root.TryGetProperty("share", out var share) || share.ValueKind != JsonValueKind.String || !share.TryGetBytesFromBase64(out var sealedShare))
                {
                    return ApplyResult.Refused(400, "invalid-request", "The body is { \"period\": the period of the key the share is sealed to, \"share\": base64 of the HPKE-sealed share }.");
                }

                return await gateway.AcceptDealtShareAsync(instance, Convert.FromHexString(dealingHex), periodNumber, sealedShare, token).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                return ApplyResult.Refused(400, "malformed-json", $"The body is not valid JSON: {e.Message}");
            }
        };
    }

    private static async Task SubmitAsync(HttpContext context, Func<SignedRequest, CancellationToken, Task<ApplyResult>> submit)
    {
        var (request, problem) = await ReadSignedAsync(context).ConfigureAwait(false);
        if (request is null)
        {
            await WriteAsync(context, problem!).ConfigureAwait(false);
            return;
        }

        await AnswerAsync(context, token => submit(request, token)).ConfigureAwait(false);
    }

    private static Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> DescribeKeyOf(HttpContext context, IApplicationGateway gateway)
    {
        var id = Uri.UnescapeDataString((string)context.Request.RouteValues["id"]!);
        return (instance, token) => gateway.DescribeKeyAsync(instance, id, token);
    }

    private static async Task ReadAsync(HttpContext context, IApplicationGateway gateway, IApplicationDirectory directory, Func<ApplicationInstance, CancellationToken, Task<ApplyResult>> read)
    {
        var (request, problem) = await ReadSignedAsync(context).ConfigureAwait(false);
        if (request is null)
        {
            await WriteAsync(context, problem!).ConfigureAwait(false);
            return;
        }

        if (!directory.TryGetInstance(request.Handle, out var instance) || !Crypto.Signing.Ed25519PublicKey.TryDecode(instance.PublicKey, out var key))
        {
            await WriteAsync(context, ApplyResult.Refused(401, "unknown-handle", "No application instance has this handle.")).ConfigureAwait(false);
            return;
        }

        if (!request.Verify(gateway.NetworkHex, key))
        {
            await WriteAsync(context, ApplyResult.Refused(401, "bad-signature", "The request's signature does not verify under the handle's key.")).ConfigureAwait(false);
            return;
        }

        await AnswerAsync(context, token => read(instance, token)).ConfigureAwait(false);
    }

    private static async Task AnswerAsync(HttpContext context, Func<CancellationToken, Task<ApplyResult>> call)
    {
        ApplyResult result;
        try
        {
            result = await call(context.RequestAborted).ConfigureAwait(false);
        }
        catch (NodeUnavailableException e)
        {
            context.Response.Headers.RetryAfter = "1";
            result = ApplyResult.Refused(503, e.Code, e.Message);
        }
        catch (Hosting.NodeBusyException e)
        {
            context.Response.Headers.RetryAfter = "1";
            result = ApplyResult.Refused(503, "busy", e.Message);
        }

        await WriteAsync(context, result).ConfigureAwait(false);
    }

    /// <summary>The request as its client signed it, or the problem with its headers or body.</summary>
    private static async Task<(SignedRequest? Request, ApplyResult? Problem)> ReadSignedAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        string? Header(string name) => headers.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;
        var handle = Header("Proactive-Handle");
        var timestampText = Header("Proactive-Timestamp");
        var nonceText = Header("Proactive-Nonce");
        var signatureText = Header("Proactive-Signature");
        if (handle is null || timestampText is null || nonceText is null || signatureText is null)
        {
            return (null, ApplyResult.Refused(401, "unauthenticated", "Sign the request: the headers Proactive-Handle, Proactive-Timestamp, Proactive-Nonce and Proactive-Signature are each required once (docs/API.md \"Authentication\")."));
        }

        var signature = new byte[64];
        if (handle.Length > SignedRequest.MaxHandleLength
            || !ulong.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp)
            || timestamp.ToString(CultureInfo.InvariantCulture) != timestampText
            || nonceText.Length != 2 * SignedRequest.NonceLength || !nonceText.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c))
            || !Convert.TryFromBase64String(signatureText, signature, out var signatureLength) || signatureLength != 64)
        {
            return (null, ApplyResult.Refused(401, "unauthenticated", "A Proactive-* header is malformed: the timestamp is unix milliseconds in decimal, the nonce 32 lowercase hex digits, the signature base64 of 64 bytes."));
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (Math.Abs((double)timestamp - now) > MaxSkew.TotalMilliseconds)
        {
            return (null, ApplyResult.Refused(401, "stale-request", $"The request's timestamp is more than {MaxSkew.TotalSeconds:0} s from this server's clock; check the client's clock."));
        }

        var sizeLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeLimit is { IsReadOnly: false })
        {
            sizeLimit.MaxRequestBodySize = SignedRequest.MaxBodyLength;
        }

        if (context.Request.ContentLength > SignedRequest.MaxBodyLength)
        {
            return (null, ApplyResult.Refused(413, "payload-too-large", $"The body is larger than {SignedRequest.MaxBodyLength} bytes."));
        }

        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, ApplyResult.Refused(413, "payload-too-large", $"The body is larger than {SignedRequest.MaxBodyLength} bytes."));
        }

        if (body.Length > SignedRequest.MaxBodyLength)
        {
            return (null, ApplyResult.Refused(413, "payload-too-large", $"The body is larger than {SignedRequest.MaxBodyLength} bytes."));
        }

        if (body.Length > 0)
        {
            try
            {
                using var _ = JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                return (null, ApplyResult.Refused(400, "malformed-json", $"The body is not valid JSON: {e.Message}"));
            }
        }

        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value + context.Request.QueryString.Value;
        if (target.Length > SignedRequest.MaxPathLength)
        {
            return (null, ApplyResult.Refused(414, "uri-too-long", $"The path is longer than {SignedRequest.MaxPathLength} bytes."));
        }

        context.Items[SignedBodyItem] = body;
        return (new SignedRequest(handle, context.Request.Method, target, timestamp, Convert.FromHexString(nonceText), body, signature), null);
    }

    private static Task WriteAsync(HttpContext context, ApplyResult result)
    {
        context.Response.StatusCode = result.Status;
        context.Response.Headers.CacheControl = "no-store";
        if (result.Problem is null)
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync(result.Body ?? "{}"u8.ToArray(), context.RequestAborted).AsTask();
        }

        context.Response.ContentType = "application/problem+json";
        var problem = ApplicationState.Json(w =>
        {
            w.WriteString("type", "urn:proactive:problem:" + result.Problem);
            w.WriteString("code", result.Problem);
            w.WriteString("title", TitleOf(result.Problem));
            w.WriteNumber("status", result.Status);
            w.WriteString("detail", result.Detail);
            w.WriteString("instance", context.Request.Path.Value);
        });
        return context.Response.Body.WriteAsync(problem, context.RequestAborted).AsTask();
    }

    private static string TitleOf(string code)
    {
        var words = code.Replace('-', ' ');
        return char.ToUpperInvariant(words[0]) + words[1..];
    }
}
