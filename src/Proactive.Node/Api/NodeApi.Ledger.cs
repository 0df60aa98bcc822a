// References: toolkit (seed 001) section 5.1 (registration), 5.2 and Table 4 (data storage), 5.3
// (GenerateKey, Sign); docs/BRIEF.md section 5; docs/API.md "Applications: registration, storage, keys";
// docs/PROTOCOLS.md "Application ledger".
using System.Globalization;
using System.Text;
using Proactive.Node.Hosting;
using Proactive.Protocols.Application;

namespace Proactive.Node.Api;

/// <summary>
/// The routes of the ledger's operations and of the reads of the agreed application state, served through
/// the node's <see cref="IApplicationGateway"/>.
/// </summary>
/// <remarks>
/// <para><b>Operations</b> the network agrees on (registration, store, write, release, keys, signing,
/// approvals: <see cref="RouteAccess.Ledger"/>) go to the ledger exactly as the client signed them; every
/// server checks the signature, the handle and replays itself before it votes. The API checks only what
/// makes a request unfit to be signed and carried (headers, timestamp, body syntax, target length), so
/// that garbage never reaches the ledger and the client hears of it at once.</para>
/// <para><b>Reads</b> (the application, an entry, a share, a key, and handing over a dealt share) are
/// answered from this server's agreed state: authenticated here (<see cref="RequestAuthenticator"/>, with
/// its replay check), as the service routes are.</para>
/// </remarks>
public sealed partial class NodeApi
{
    /// <summary>Registration.</summary>
    public const string AppsPath = "/v1/apps";

    /// <summary>The calling application.</summary>
    public const string AppSelfPath = "/v1/apps/self";

    /// <summary>Data entries.</summary>
    public const string DataPath = "/v1/data";

    /// <summary>Application signing keys.</summary>
    public const string KeysPath = "/v1/keys";

    /// <summary>Where a client fetches the key to seal a dealt share to.</summary>
    public const string DealingKeyPath = "/v1/dealing-key";

    /// <summary>Dealt shares.</summary>
    public const string DealingsPath = "/v1/dealings";

    /// <summary>GenerateJointSecret with a random value.</summary>
    public const string JointSecretsPath = "/v1/joint-secrets";

    /// <summary>Links between a distributed application's instances: send (POST) and receive (GET).</summary>
    public const string LinksPath = "/v1/links/messages";

    /// <summary>
    /// The body limit of the ledger's operations: the largest request the ledger carries
    /// (<see cref="SignedRequest.MaxBodyLength"/>: a 1 MiB value in base64 with its JSON).
    /// </summary>
    public const long LedgerMaxBodyBytes = SignedRequest.MaxBodyLength;

    /// <summary>The body limit of <c>PUT /v1/dealings/{dealing}</c>: one sealed scalar, with generous room for its JSON.</summary>
    public const long DealtShareMaxBodyBytes = 16 * 1024;

    private IEnumerable<ApiRoute> LedgerRoutes()
    {
        var json = LedgerApiJsonContext.Default;
        ProblemKind[] waiting = [ApiProblems.NotOperational, ApiProblems.NotAgreedYet];
        ProblemKind[] store = [.. waiting, ApiProblems.QuotaExceeded, ApiProblems.AlreadyExists, ApiProblems.StalePeriod, ApiProblems.NotFound];
        SuccessResponse Pending(string what) => new(StatusCodes.Status202Accepted, json.PendingBody, $"A quorum of a distributed application's instances must ask for {what}; this instance's request is recorded.");

        yield return new ApiRoute("POST", AppsPath, "postApp", "Register an application instance (handle 'new', signed with the key it registers).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.RegisterRequest, null,
            [.. waiting, ApiProblems.AlreadyRegistered, ApiProblems.BadPassword, ApiProblems.NetworkFull, ApiProblems.NotFound, .. CertificateProblems], ServeRegisterAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.RegistrationBody, "Registered: the handle and quota.")],
        };
        yield return new ApiRoute("GET", AppSelfPath, "getAppSelf", "The calling application: its registration, quota and use.", RouteAccess.Application, null, null, json.ApplicationBody, [ApiProblems.NotOperational], ServeDescribeApplicationAsync);
        yield return new ApiRoute("POST", DataPath, "postData", "Store a data entry (agreed through the ledger before the answer).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.StoreRequest, null, store, ServeSubmitAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.DataBody, "Stored."), Pending("a read/write entry to be stored")],
        };
        yield return new ApiRoute("PUT", DataPath + "/{id}", "putData", "Write a read/write data entry (agreed through the ledger before the answer).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.WriteRequest, null,
            [.. store, ApiProblems.UnknownData, ApiProblems.WriteOnce, ApiProblems.VersionMismatch], ServeSubmitAsync)
        {
            Responses = [new(StatusCodes.Status200OK, json.DataBody, "Written: the new version."), Pending("the write")],
        };
        yield return new ApiRoute("GET", DataPath + "/{id}", "getData", "Read one of the caller's entries (a public value, or a secret's ciphertext) from this server's agreed state.", RouteAccess.Application, null, null, json.DataBody,
            [ApiProblems.NotOperational, ApiProblems.UnknownData], ServeReadDataAsync);
        yield return new ApiRoute("GET", DataPath + "/{id}/share", "getDataShare", "This server's share of a secret entry, HPKE-sealed to the X25519 key given as ?to= (released per the entry's type).", RouteAccess.Application, null, null, json.DataShareBody,
            [ApiProblems.NotOperational, ApiProblems.InvalidRequest, ApiProblems.UnknownData, ApiProblems.ShareMissing, ApiProblems.NotSecret, ApiProblems.QuorumRequired, ApiProblems.NotYet], ServeReadShareAsync)
        {
            Query = [new QueryParameter("to", "The X25519 public key (64 lowercase hex digits) to seal the share to: a one-time key of the caller.", "string")],
        };
        yield return new ApiRoute("POST", DataPath + "/{id}/release", "postDataRelease", "Ask for (or approve) the release of a distributed-reader secret (agreed through the ledger).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.ReleaseRequest, null,
            [.. waiting, ApiProblems.UnknownData, ApiProblems.NotDistributedReader, ApiProblems.VersionMismatch, ApiProblems.NotFound], ServeSubmitAsync)
        {
            Responses = [new(StatusCodes.Status200OK, json.DataBody, "Released: every server now hands its share to the application's instances."), Pending("the release")],
        };
        yield return new ApiRoute("GET", DealingKeyPath, "getDealingKey", "This server's encryption key of the current period, to seal a dealt share to (check it against the period's certified KeyTable).", RouteAccess.Public, null, null, json.DealingKeyBody,
            [ApiProblems.NotOperational], ServeDealingKeyAsync);
        yield return new ApiRoute("PUT", DealingsPath + "/{dealing}", "putDealing", "Hand this server its HPKE-sealed share of a data key the client dealt.", RouteAccess.Application, DealtShareMaxBodyBytes, json.DealtShareRequest, null,
            [ApiProblems.NotOperational, ApiProblems.BadShare, ApiProblems.StalePeriod, ApiProblems.NetworkFull], ServeDealtShareAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.DealtShareBody, "Kept until the secret joins the share vector.")],
        };
        yield return new ApiRoute("POST", KeysPath, "postKey", "Generate a threshold signing key owned by the application (a DKG; answered once it completes here).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.KeyRequest, null,
            [.. store, ApiProblems.NetworkFull, ApiProblems.NotGeneratedYet], ServeGenerateKeyAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.KeyBody, "Generated: the public key."), Pending("the key")],
        };
        yield return new ApiRoute("GET", KeysPath + "/{id}", "getKey", "One of the application's keys: its public key and state.", RouteAccess.Application, null, null, json.KeyBody, [ApiProblems.NotOperational, ApiProblems.UnknownKey], ServeDescribeKeyAsync);
        yield return new ApiRoute("POST", KeysPath + "/{id}/sign", "postKeySign", "Sign a message with one of the application's keys (FROST among the servers; every signer checks this request itself).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.MessageRequest, json.SignatureBody,
            [ApiProblems.NotOperational, ApiProblems.UnknownKey, ApiProblems.QuorumRequired, ApiProblems.NotSigned], ServeSignAsync);
        yield return new ApiRoute("POST", KeysPath + "/{id}/sign-batch", "postKeySignBatch", "Sign 1 to 256 messages with one of the application's keys in one session (one signature each, in order; the throughput path).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.MessagesRequest, json.SignatureBatchBody,
            [ApiProblems.NotOperational, ApiProblems.UnknownKey, ApiProblems.QuorumRequired, ApiProblems.NotSigned], ServeSignAsync);
        yield return new ApiRoute("POST", DataPath + "/batch", "postDataBatch", "Store up to 4096 write-once entries at once, all or none (bulk import; agreed through the ledger).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.BatchStoreRequest, null,
            [.. waiting, ApiProblems.QuotaExceeded, ApiProblems.AlreadyExists, ApiProblems.NotFound], ServeSubmitAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.BatchStoredBody, "Stored: how many, and every entry.")],
        };
        yield return new ApiRoute("PUT", DealingsPath, "putDealings", "Hand this server many of its dealt shares at once, sealed together (bulk import).", RouteAccess.Application, LedgerMaxBodyBytes, json.DealtSharesRequest, null,
            [ApiProblems.NotOperational, ApiProblems.BadShare, ApiProblems.StalePeriod, ApiProblems.NetworkFull], ServeDealtSharesAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.DealtSharesBody, "Kept: how many.")],
        };
        yield return new ApiRoute("POST", JointSecretsPath, "postJointSecret", "GenerateJointSecret with a random value: a DKG whose result only the owner may reconstruct (answered once it completes here).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.KeyRequest, null,
            [.. store, ApiProblems.NetworkFull, ApiProblems.NotGeneratedYet], ServeGenerateKeyAsync)
        {
            Responses = [new(StatusCodes.Status201Created, json.KeyBody, "Generated: its public value g^x."), Pending("the joint secret")],
        };
        yield return new ApiRoute("GET", JointSecretsPath + "/{id}", "getJointSecret", "One of the application's joint secrets: its public value and state.", RouteAccess.Application, null, null, json.KeyBody, [ApiProblems.NotOperational, ApiProblems.UnknownKey], ServeDescribeKeyAsync);
        yield return new ApiRoute("GET", JointSecretsPath + "/{id}/share", "getJointSecretShare", "This server's share of a joint secret with the sharing's commitments, HPKE-sealed to the X25519 key given as ?to=.", RouteAccess.Application, null, null, null,
            [ApiProblems.NotOperational, ApiProblems.InvalidRequest, ApiProblems.UnknownData, ApiProblems.ShareMissing], ServeJointSecretShareAsync)
        {
            Query = [new QueryParameter("to", "The X25519 public key (64 lowercase hex digits) to seal the share to.", "string")],
        };
        yield return new ApiRoute("POST", "/v1/period-keys", "postPeriodKey", "Have the network key certify the instance's key of the current period (toolkit 5.4).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.PeriodKeyRequest, json.PeriodKeyBody,
            [ApiProblems.NotOperational, ApiProblems.NotSigned, ApiProblems.WrongPeriod], ServeSignAsync);
        yield return new ApiRoute("POST", LinksPath, "postLinkMessage", "Send a message to another instance of the application, relayed over the servers' channels.", RouteAccess.Ledger, LedgerMaxBodyBytes, json.LinkSendRequest, null,
            [ApiProblems.NotOperational, ApiProblems.NoLink, ApiProblems.UnknownInstance], ServeSendLinkMessageAsync)
        {
            Responses = [new(StatusCodes.Status202Accepted, json.LinkSentBody, "Relayed to the recipient instance's server.")],
        };
        yield return new ApiRoute("GET", LinksPath, "getLinkMessages", "The messages other instances sent to the caller, waiting at this server (each received once).", RouteAccess.Application, null, null, json.LinkMessagesBody,
            [ApiProblems.NotOperational], ServeReceiveLinkMessagesAsync);
        yield return new ApiRoute("POST", KeysPath + "/{id}/approve", "postKeyApprove", "Approve signing a message with a distributed application's key (agreed through the ledger).", RouteAccess.Ledger, LedgerMaxBodyBytes, json.MessageRequest, null,
            [.. waiting, ApiProblems.UnknownKey, ApiProblems.NotFound], ServeSubmitAsync)
        {
            Responses = [new(StatusCodes.Status200OK, json.KeyStatusBody, "Approved by a quorum: the message may be signed."), Pending("the approval")],
        };
    }

    /// <summary>
    /// What a ledger route checks before the request is handed on: the headers and timestamp, the body's
    /// media type and JSON syntax, the target's length; then the request as its client signed it.
    /// </summary>
    private bool TryReadSigned(HttpContext context, ReadOnlyMemory<byte> body, out SignedRequest? signed, out ApiError? error)
    {
        signed = null;
        var request = context.Request;
        if (!_authenticator!.TryCheckSubmission(request.Headers, out var headers, out error))
        {
            return false;
        }

        if (!IsJson(request.ContentType) && body.Length > 0)
        {
            error = new ApiError(ApiProblems.UnsupportedMediaType, $"{request.Method} {request.Path} takes application/json (UTF-8), not '{request.ContentType}'.");
            return false;
        }

        if (!JsonRequest.TryCheckSyntax(body.Span, out error))
        {
            return false;
        }

        var target = RequestTarget(context);
        if (Encoding.UTF8.GetByteCount(target) > SignedRequest.MaxPathLength)
        {
            error = new ApiError(ApiProblems.UriTooLong, $"The path and query are longer than the {SignedRequest.MaxPathLength} bytes a ledger operation carries.");
            return false;
        }

        signed = new SignedRequest(headers.Handle, request.Method, target, (ulong)headers.TimestampMs, Convert.FromHexString(headers.Nonce), body.Span, headers.Signature);
        return true;
    }

    private Task ServeSubmitAsync(ApiRequest request) => AnswerLedgerAsync(request, async token =>
    {
        var result = await _gateway!.SubmitAsync(request.Signed!, token).ConfigureAwait(false);
        if (_gateway.NextLedgerProposer is > 0 and var proposer)
        {
            request.Http.Response.Headers[ApplicationLedger.NextProposerHeader] = proposer.ToString(CultureInfo.InvariantCulture);
        }

        return result;
    });

    private Task ServeGenerateKeyAsync(ApiRequest request) => AnswerLedgerAsync(request, token => _gateway!.GenerateKeyAsync(request.Signed!, token));

    private Task ServeSignAsync(ApiRequest request) => AnswerLedgerAsync(request, token => _gateway!.SignAsync(request.Signed!, token));

    private Task ServeSendLinkMessageAsync(ApiRequest request) => AnswerLedgerAsync(request, token => _gateway!.SendLinkMessageAsync(request.Signed!, token));

    private Task ServeReceiveLinkMessagesAsync(ApiRequest request) =>
        AnswerLedgerAsync(request, token => _gateway!.ReceiveLinkMessagesAsync(request.Application!.Instance, token));

    private Task ServeJointSecretShareAsync(ApiRequest request)
    {
        var to = request.Http.Request.Query["to"];
        if (to.Count != 1 || to[0] is not { Length: 64 } hex || !TryParseHex(hex, 32, out var recipient))
        {
            return ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidRequest, "Give 'to' once: the X25519 public key (64 lowercase hex digits) to seal the share to.");
        }

        return AnswerLedgerAsync(request, token => _gateway!.ReadJointSecretShareAsync(request.Application!.Instance, RouteValue(request, "id"), recipient, token));
    }

    private Task ServeDealtSharesAsync(ApiRequest request)
    {
        if (!JsonRequest.TryParse(request.Body.Span, LedgerApiJsonContext.Default.DealtSharesRequest, out var body, out var error))
        {
            return error.WriteAsync(request.Http);
        }

        var sealedShares = new byte[(body.Shares.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(body.Shares, sealedShares, out var length))
        {
            return ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidRequest, "'shares' must be standard base64 of the HPKE-sealed shares.");
        }

        return AnswerLedgerAsync(request, token => _gateway!.AcceptDealtSharesAsync(request.Application!.Instance, body.Period, sealedShares[..length], token));
    }

    private Task ServeDescribeApplicationAsync(ApiRequest request) =>
        AnswerLedgerAsync(request, token => _gateway!.DescribeApplicationAsync(request.Application!.Instance, token));

    private Task ServeReadDataAsync(ApiRequest request) =>
        AnswerLedgerAsync(request, token => _gateway!.ReadDataAsync(request.Application!.Instance, RouteValue(request, "id"), token));

    private Task ServeDescribeKeyAsync(ApiRequest request) =>
        AnswerLedgerAsync(request, token => _gateway!.DescribeKeyAsync(request.Application!.Instance, RouteValue(request, "id"), token));

    private Task ServeDealingKeyAsync(ApiRequest request) => AnswerLedgerAsync(request, _gateway!.DealingKeyAsync);

    private Task ServeReadShareAsync(ApiRequest request)
    {
        var to = request.Http.Request.Query["to"];
        if (to.Count != 1 || to[0] is not { Length: 64 } hex || !TryParseHex(hex, 32, out var recipient))
        {
            return ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidRequest, "Give 'to' once: the X25519 public key (64 lowercase hex digits) to seal the share to.");
        }

        return AnswerLedgerAsync(request, token => _gateway!.ReadShareAsync(request.Application!.Instance, RouteValue(request, "id"), recipient, token));
    }

    private Task ServeDealtShareAsync(ApiRequest request)
    {
        var dealingHex = RouteValue(request, "dealing");
        if (dealingHex.Length != 2 * DataRecord.DealingLength || !TryParseHex(dealingHex, DataRecord.DealingLength, out var dealing))
        {
            return ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidRequest, $"A dealing id is {2 * DataRecord.DealingLength} lowercase hex digits.");
        }

        if (!JsonRequest.TryParse(request.Body.Span, LedgerApiJsonContext.Default.DealtShareRequest, out var body, out var error))
        {
            return error.WriteAsync(request.Http);
        }

        var sealedShare = new byte[(body.Share.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(body.Share, sealedShare, out var length))
        {
            return ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidRequest, "'share' must be standard base64 of the HPKE-sealed share.");
        }

        return AnswerLedgerAsync(request, token => _gateway!.AcceptDealtShareAsync(request.Application!.Instance, dealing, body.Period, sealedShare[..length], token));
    }

    /// <summary>
    /// Runs a gateway call and writes what it gave: a success body as the ledger wrote it, a refusal as a
    /// problem with the ledger's code, a server that cannot serve now as a 503 with its code.
    /// </summary>
    private static async Task AnswerLedgerAsync(ApiRequest request, Func<CancellationToken, Task<ApplyResult>> call)
    {
        var context = request.Http;
        ApplyResult result;
        try
        {
            result = await call(context.RequestAborted).ConfigureAwait(false);
        }
        catch (NodeUnavailableException e)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.Find(e.Code, StatusCodes.Status503ServiceUnavailable), e.Message).ConfigureAwait(false);
            return;
        }
        catch (NodeBusyException e)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.Busy, e.Message).ConfigureAwait(false);
            return;
        }

        if (result.Problem is { } code)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.Find(code, result.Status), result.Detail).ConfigureAwait(false);
            return;
        }

        // The ledger wrote the body (the same at every server); it is passed on as it is.
        context.Response.StatusCode = result.Status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(result.Body ?? "{}"u8.ToArray(), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A route value, unescaped once more (ASP.NET leaves <c>%2F</c> escaped; the ledger's ids are unescaped the same way).</summary>
    private static string RouteValue(ApiRequest request, string name) => Uri.UnescapeDataString((string)request.Http.Request.RouteValues[name]!);
}
