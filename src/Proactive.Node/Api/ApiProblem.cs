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
        NoCertificate, MethodNotAllowed, ReplayedRequest, BodyNotAccepted, PayloadTooLarge, UnsupportedMediaType, InternalError,
        Busy, NotOperational,
    ];

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
