// References: RFC 9457 (problem details for HTTP APIs, obsoletes RFC 7807: type, title, status, detail,
// instance, and extension members); RFC 9110 section 10.2.3 (Retry-After) and 11.6.1 (WWW-Authenticate);
// docs/API.md "Problem details" (the codes are a contract).
using System.Globalization;
using Proactive.Protocols.Services;

namespace Proactive.Node.Api;

/// <summary>An RFC 9457 problem detail: every error of the API, as <c>application/problem+json</c>.</summary>
/// <param name="Type">A URI naming the kind of problem (<c>urn:proactive:problem:CODE</c>; stable, for programs).</param>
/// <param name="Title">A short summary of that kind, the same for every occurrence.</param>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Detail">What was wrong with this request.</param>
/// <param name="Instance">The request path.</param>
/// <param name="Code">The kind's stable code (kebab-case), the last part of <paramref name="Type"/>: what a program switches on.</param>
public sealed record ApiProblem(string Type, string Title, int Status, string Detail, string? Instance, string Code);

/// <summary>One kind of problem: its stable code, HTTP status and title.</summary>
/// <param name="Code">Kebab-case, stable: clients switch on it.</param>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Title">A short summary, the same for every occurrence.</param>
public sealed record ProblemKind(string Code, int Status, string Title)
{
    /// <summary>The RFC 9457 type URI: <c>urn:proactive:problem:CODE</c>.</summary>
    public string Type => ApiProblems.TypePrefix + Code;
}

/// <summary>
/// A refusal a handler or a check decided on, to be written as a problem; checks return it instead of
/// throwing, because a bad request is expected input, not an exceptional one.
/// </summary>
/// <param name="Kind">What kind of problem.</param>
/// <param name="Detail">What was wrong with this request, for a human.</param>
/// <param name="RetryAfter">For 503s: when to try again (the <c>Retry-After</c> header, whole seconds, at least 1).</param>
public sealed record ApiError(ProblemKind Kind, string Detail, TimeSpan? RetryAfter = null)
{
    /// <summary>Writes this problem as the response.</summary>
    public Task WriteAsync(HttpContext context) => ApiProblems.WriteAsync(context, Kind, Detail, RetryAfter);
}

/// <summary>
/// Every kind of problem the API answers, and the one way to write one. The codes are a contract
/// (docs/API.md lists them); a new failure gets a new code rather than reusing one with another meaning.
/// </summary>
public static class ApiProblems
{
    /// <summary>The media type of every error.</summary>
    public const string MediaType = "application/problem+json";

    /// <summary>The prefix of every problem type URI.</summary>
    public const string TypePrefix = "urn:proactive:problem:";

    /// <summary>A query parameter is unknown, repeated or out of range.</summary>
    public static readonly ProblemKind InvalidQuery = new("invalid-query", StatusCodes.Status400BadRequest, "Invalid query");

    /// <summary>The body is not JSON (or is empty).</summary>
    public static readonly ProblemKind MalformedJson = new("malformed-json", StatusCodes.Status400BadRequest, "Malformed JSON");

    /// <summary>The JSON has an unknown, missing, repeated or wrongly typed member, or a value out of range.</summary>
    public static readonly ProblemKind InvalidRequest = new("invalid-request", StatusCodes.Status400BadRequest, "Invalid request");

    /// <summary>The authentication headers are missing or garbled.</summary>
    public static readonly ProblemKind Unauthenticated = new("unauthenticated", StatusCodes.Status401Unauthorized, "Not authenticated");

    /// <summary>No registered instance has this handle.</summary>
    public static readonly ProblemKind UnknownHandle = new("unknown-handle", StatusCodes.Status401Unauthorized, "Unknown handle");

    /// <summary>The signature does not verify under the instance's key.</summary>
    public static readonly ProblemKind BadSignature = new("bad-signature", StatusCodes.Status401Unauthorized, "Bad signature");

    /// <summary>The timestamp is too far from the server's clock.</summary>
    public static readonly ProblemKind StaleRequest = new("stale-request", StatusCodes.Status401Unauthorized, "Stale request");

    /// <summary>No such route.</summary>
    public static readonly ProblemKind NotFound = new("not-found", StatusCodes.Status404NotFound, "No such resource");

    /// <summary>The server holds no certificate of the period asked for.</summary>
    public static readonly ProblemKind NoCertificate = new("no-certificate", StatusCodes.Status404NotFound, "No such certificate");

    /// <summary>The route exists, with other methods.</summary>
    public static readonly ProblemKind MethodNotAllowed = new("method-not-allowed", StatusCodes.Status405MethodNotAllowed, "Method not allowed");

    /// <summary>The nonce was already used by this instance within the timestamp window.</summary>
    public static readonly ProblemKind ReplayedRequest = new("replayed-request", StatusCodes.Status409Conflict, "Replayed request");

    /// <summary>A body sent to a route that takes none.</summary>
    public static readonly ProblemKind BodyNotAccepted = new("body-not-accepted", StatusCodes.Status413PayloadTooLarge, "Request body not accepted");

    /// <summary>A body larger than the route accepts.</summary>
    public static readonly ProblemKind PayloadTooLarge = new("payload-too-large", StatusCodes.Status413PayloadTooLarge, "Payload too large");

    /// <summary>A request target longer than a ledger operation may carry (it is signed and kept with the request).</summary>
    public static readonly ProblemKind UriTooLong = new("uri-too-long", StatusCodes.Status414UriTooLong, "URI too long");

    /// <summary>A body that is not <c>application/json</c>.</summary>
    public static readonly ProblemKind UnsupportedMediaType = new("unsupported-media-type", StatusCodes.Status415UnsupportedMediaType, "Unsupported media type");

    /// <summary>The server failed (the reason is in its log, never in the answer).</summary>
    public static readonly ProblemKind InternalError = new("internal-error", StatusCodes.Status500InternalServerError, "Internal error");

    /// <summary>Too much work is waiting; try again after <c>Retry-After</c>.</summary>
    public static readonly ProblemKind Busy = new("busy", StatusCodes.Status503ServiceUnavailable, "Busy");

    /// <summary>The server cannot serve this now (initializing, recovering, not certified yet); try again after <c>Retry-After</c>.</summary>
    public static readonly ProblemKind NotOperational = new("not-operational", StatusCodes.Status503ServiceUnavailable, "Not operational");

    /// <summary>Every kind above, for the OpenAPI document and the tests.</summary>
    public static IReadOnlyList<ProblemKind> All { get; } =
    [
        InvalidQuery, MalformedJson, InvalidRequest, Unauthenticated, UnknownHandle, BadSignature, StaleRequest, NotFound,
        NoCertificate, MethodNotAllowed, ReplayedRequest, BodyNotAccepted, PayloadTooLarge, UriTooLong, UnsupportedMediaType, InternalError,
        Busy, NotOperational,
    ];

    /// <summary>An entry's id (or a key's) names nothing the application stored.</summary>
    public static readonly ProblemKind UnknownData = new("unknown-data", StatusCodes.Status404NotFound, "Unknown data");

    /// <summary>No key of the application has this id.</summary>
    public static readonly ProblemKind UnknownKey = new("unknown-key", StatusCodes.Status404NotFound, "Unknown key");

    /// <summary>This server holds no share of the secret (never dealt one, or lost it): ask the others.</summary>
    public static readonly ProblemKind ShareMissing = new("share-missing", StatusCodes.Status404NotFound, "Share missing");

    /// <summary>A dealt share that does not open with this server's key, or is not a scalar.</summary>
    public static readonly ProblemKind BadShare = new("bad-share", StatusCodes.Status400BadRequest, "Bad share");

    /// <summary>A distributed application's instance registered with another password.</summary>
    public static readonly ProblemKind BadPassword = new("bad-password", StatusCodes.Status403Forbidden, "Bad password");

    /// <summary>A registration certificate whose signature does not verify under its issuer key.</summary>
    public static readonly ProblemKind BadCertificate = new("bad-certificate", StatusCodes.Status403Forbidden, "Bad certificate");

    /// <summary>A registration certificate for another network, application, key, instance or server than the request.</summary>
    public static readonly ProblemKind CertificateMismatch = new("certificate-mismatch", StatusCodes.Status403Forbidden, "Certificate mismatch");

    /// <summary>A registration certificate that expired before the request was signed.</summary>
    public static readonly ProblemKind CertificateExpired = new("certificate-expired", StatusCodes.Status403Forbidden, "Certificate expired");

    /// <summary>A registration certificate whose validity starts after the request was signed.</summary>
    public static readonly ProblemKind CertificateNotYetValid = new("certificate-not-yet-valid", StatusCodes.Status403Forbidden, "Certificate not yet valid");

    /// <summary>A registration certificate issued by another CA than the one the application was created with.</summary>
    public static readonly ProblemKind WrongCertificateAuthority = new("wrong-certificate-authority", StatusCodes.Status403Forbidden, "Wrong certificate authority");

    /// <summary>A registration certificate (its serial) that registered an instance already: certificates are one-time.</summary>
    public static readonly ProblemKind CertificateUsed = new("certificate-used", StatusCodes.Status409Conflict, "Certificate used");

    /// <summary>A password registration for an application registered by certificate, or the other way round.</summary>
    public static readonly ProblemKind WrongRegistrationKind = new("wrong-registration-kind", StatusCodes.Status409Conflict, "Wrong registration kind");

    /// <summary>A StoreUntil secret asked for before its date (by this server's clock).</summary>
    public static readonly ProblemKind NotYet = new("not-yet", StatusCodes.Status403Forbidden, "Not yet");

    /// <summary>The operation needs a quorum of the application's instances first.</summary>
    public static readonly ProblemKind QuorumRequired = new("quorum-required", StatusCodes.Status403Forbidden, "Quorum required");

    /// <summary>The application's quota (entries or bytes) would be exceeded.</summary>
    public static readonly ProblemKind QuotaExceeded = new("quota-exceeded", StatusCodes.Status403Forbidden, "Quota exceeded");

    /// <summary>The network (or this server) holds as many applications, keys or dealt shares as it takes.</summary>
    public static readonly ProblemKind NetworkFull = new("quota-exceeded", StatusCodes.Status507InsufficientStorage, "Quota exceeded");

    /// <summary>The id is taken (an entry or a key).</summary>
    public static readonly ProblemKind AlreadyExists = new("already-exists", StatusCodes.Status409Conflict, "Already exists");

    /// <summary>The application (or this instance of it) is registered already.</summary>
    public static readonly ProblemKind AlreadyRegistered = new("already-registered", StatusCodes.Status409Conflict, "Already registered");

    /// <summary>A release asked of an entry that is not a distributed-reader secret.</summary>
    public static readonly ProblemKind NotDistributedReader = new("not-distributed-reader", StatusCodes.Status409Conflict, "Not a distributed-reader secret");

    /// <summary>A share asked of a public entry.</summary>
    public static readonly ProblemKind NotSecret = new("not-secret", StatusCodes.Status409Conflict, "Not a secret");

    /// <summary>A dealt share sealed to a period key this server no longer (or not yet) holds.</summary>
    public static readonly ProblemKind StalePeriod = new("stale-period", StatusCodes.Status409Conflict, "Stale period");

    /// <summary>A period key asked to be certified for another period than the server's current one.</summary>
    public static readonly ProblemKind WrongPeriod = new("wrong-period", StatusCodes.Status409Conflict, "Wrong period");

    /// <summary>A link message from a centralized application, which has no other instance to send to.</summary>
    public static readonly ProblemKind NoLink = new("no-link", StatusCodes.Status409Conflict, "No link");

    /// <summary>A link message to an instance the application has not registered.</summary>
    public static readonly ProblemKind UnknownInstance = new("unknown-instance", StatusCodes.Status404NotFound, "Unknown instance");

    /// <summary>A write or release of another version than the entry's.</summary>
    public static readonly ProblemKind VersionMismatch = new("version-mismatch", StatusCodes.Status409Conflict, "Version mismatch");

    /// <summary>A write of an entry whose type cannot change.</summary>
    public static readonly ProblemKind WriteOnce = new("write-once", StatusCodes.Status409Conflict, "Write-once entry");

    /// <summary>The network has not agreed on the request yet; it stays pending.</summary>
    public static readonly ProblemKind NotAgreedYet = new("not-agreed-yet", StatusCodes.Status503ServiceUnavailable, "Not agreed yet");

    /// <summary>A key is agreed but its generation has not completed here yet.</summary>
    public static readonly ProblemKind NotGeneratedYet = new("not-generated-yet", StatusCodes.Status503ServiceUnavailable, "Not generated yet");

    /// <summary>The signing session produced no signature; retry.</summary>
    public static readonly ProblemKind NotSigned = new("not-signed", StatusCodes.Status503ServiceUnavailable, "Not signed");

    /// <summary>
    /// The problems of the ledger's operations (registration, storage, keys): answered by the application
    /// state and the node's gateway, the same at every server. <c>quota-exceeded</c> is here twice: 403 for
    /// the application's own quota, 507 for what the network or the server holds in all.
    /// </summary>
    public static IReadOnlyList<ProblemKind> Ledger { get; } =
    [
        UnknownData, UnknownKey, ShareMissing, BadShare, BadPassword, BadCertificate, CertificateMismatch, CertificateExpired, CertificateNotYetValid,
        WrongCertificateAuthority, CertificateUsed, WrongRegistrationKind, NotYet, QuorumRequired, QuotaExceeded, NetworkFull,
        AlreadyExists, AlreadyRegistered, NotDistributedReader, NotSecret, StalePeriod, VersionMismatch, WriteOnce,
        WrongPeriod, NoLink, UnknownInstance, NotAgreedYet, NotGeneratedYet, NotSigned,
    ];

    /// <summary>
    /// The kind with this code and status, from <see cref="All"/> or <see cref="Ledger"/>; a code neither
    /// lists (a new refusal of the ledger) gets a kind of its own, titled from the code, rather than being
    /// lost.
    /// </summary>
    public static ProblemKind Find(string code, int status)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        return All.Concat(Ledger).FirstOrDefault(k => k.Code == code && k.Status == status)
            ?? new ProblemKind(code, status, char.ToUpperInvariant(code[0]) + code[1..].Replace('-', ' '));
    }

    /// <summary>
    /// Writes <paramref name="kind"/> as the response: status, <c>application/problem+json</c>, the problem
    /// body with <c>code</c>; a 401 also says how to authenticate (<c>WWW-Authenticate</c>) and a 503 when
    /// to come back (<c>Retry-After</c>, 1 second unless given).
    /// </summary>
    public static Task WriteAsync(HttpContext context, ProblemKind kind, string detail, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(kind);
        var response = context.Response;
        response.StatusCode = kind.Status;
        if (kind.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = $"Proactive headers=\"{ApplicationRequestSigning.HandleHeader} {ApplicationRequestSigning.TimestampHeader} {ApplicationRequestSigning.NonceHeader} {ApplicationRequestSigning.SignatureHeader}\"";
        }

        if (kind.Status == StatusCodes.Status503ServiceUnavailable)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds));
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        // Errors change with the server's state as much as the answers do: no cache may keep one.
        response.Headers.CacheControl = "no-store";
        var problem = new ApiProblem(kind.Type, kind.Title, kind.Status, detail, context.Request.Path.Value, kind.Code);
        return response.WriteAsJsonAsync(problem, NodeApiJsonContext.Default.ApiProblem, MediaType, context.RequestAborted);
    }
}
