// References: docs/API.md (every route); OpenAPI 3.1 (the document built from these routes).
using System.Text.Json.Serialization.Metadata;
using Proactive.Protocols.Application;

namespace Proactive.Node.Api;

/// <summary>Who may call a route.</summary>
internal enum RouteAccess
{
    /// <summary>Anyone who can connect (status, health, the cluster, certificates: nothing secret).</summary>
    Public,

    /// <summary>A registered application instance, with the four signature headers (<see cref="RequestAuthenticator"/>).</summary>
    Application,

    /// <summary>
    /// An operation the network agrees on (registration, storage, keys): the same four headers, but the
    /// request goes to the ledger exactly as signed and every server judges its signature, its handle and
    /// whether it is a replay there (by the request's id). The API checks only that the headers are
    /// well-formed and the timestamp fresh, so that an identical resend of a pending request waits for the
    /// same answer instead of being refused as a replay.
    /// </summary>
    Ledger,
}

/// <summary>A success answer of a route, for the document.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Type">The body's type.</param>
/// <param name="Description">When the route answers it.</param>
internal sealed record SuccessResponse(int Status, JsonTypeInfo Type, string Description);

/// <summary>A documented query parameter of a route.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Description">What it does, for the OpenAPI document.</param>
/// <param name="Schema">Its JSON type: <c>integer</c> or <c>string</c>.</param>
internal sealed record QueryParameter(string Name, string Description, string Schema);

/// <summary>What a route handler gets: the request, its body (read and bounded by the route), the authenticated instance.</summary>
/// <param name="Http">The request's context.</param>
/// <param name="Body">The body exactly as received (empty for routes without one).</param>
/// <param name="Application">The instance that signed the request, with its verified headers; null on public and ledger routes.</param>
internal sealed record ApiRequest(HttpContext Http, ReadOnlyMemory<byte> Body, AuthenticatedApplication? Application)
{
    /// <summary>On a ledger route: the request exactly as its client signed it (headers well-formed, timestamp fresh, nothing else checked yet).</summary>
    public SignedRequest? Signed { get; init; }
}

/// <summary>
/// One route of the API, with everything the API derives from it: the endpoint, who may call it, whether
/// and how much body it takes, its 405 answer, and its part of the OpenAPI document. One table of these
/// is the only place a route is declared, so the document cannot drift from what is served.
/// </summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The route pattern (ASP.NET syntax, also OpenAPI's for plain <c>{name}</c> parameters).</param>
/// <param name="OperationId">A stable name (OpenAPI operationId and endpoint name).</param>
/// <param name="Summary">One line for humans.</param>
/// <param name="Access">Public or signed by an application instance.</param>
/// <param name="MaxBodyBytes">Largest body accepted; null when the route takes no body (one is refused with 413 <c>body-not-accepted</c>).</param>
/// <param name="RequestType">The JSON body's type, for the document; null when there is none.</param>
/// <param name="ResponseType">The success body's type; null when its schema is not described (any JSON object).</param>
/// <param name="Problems">The problems specific to this route (those every route of its kind can answer are added by the document).</param>
/// <param name="Handler">Answers the request.</param>
internal sealed record ApiRoute(
    string Method,
    string Path,
    string OperationId,
    string Summary,
    RouteAccess Access,
    long? MaxBodyBytes,
    JsonTypeInfo? RequestType,
    JsonTypeInfo? ResponseType,
    IReadOnlyList<ProblemKind> Problems,
    Func<ApiRequest, Task> Handler)
{
    /// <summary>Documented query parameters.</summary>
    public IReadOnlyList<QueryParameter> Query { get; init; } = [];

    /// <summary>A longer description, for the document.</summary>
    public string? Description { get; init; }

    /// <summary>The success body's media type when it is not JSON (the Prometheus text of <c>/metrics</c>); the document then describes it as a string.</summary>
    public string? ResponseMediaType { get; init; }

    /// <summary>Success statuses besides 200 (e.g. health's 503 with the same body).</summary>
    public IReadOnlyList<int> OtherSuccessStatuses { get; init; } = [];

    /// <summary>
    /// The success answers when they are not one body with status 200 (a ledger operation answers 201 when
    /// applied, 202 while a quorum is still asking); when set, <see cref="ResponseType"/> and
    /// <see cref="OtherSuccessStatuses"/> are not used.
    /// </summary>
    public IReadOnlyList<SuccessResponse> Responses { get; init; } = [];

    /// <summary>Every problem this route can answer: its own and those of its kind (authentication, bodies), by status then code.</summary>
    public IReadOnlyList<ProblemKind> AllProblems()
    {
        var all = new List<ProblemKind>(Problems) { ApiProblems.InternalError, ApiProblems.Busy };
        if (MaxBodyBytes is null)
        {
            all.Add(ApiProblems.BodyNotAccepted);
        }
        else
        {
            all.AddRange([ApiProblems.MalformedJson, ApiProblems.InvalidRequest, ApiProblems.PayloadTooLarge, ApiProblems.UnsupportedMediaType]);
        }

        if (Access is RouteAccess.Application or RouteAccess.Ledger)
        {
            // A ledger route refuses the same way, partly here (headers, timestamp) and partly at the ledger (handle, signature, replay).
            all.AddRange([ApiProblems.Unauthenticated, ApiProblems.UnknownHandle, ApiProblems.BadSignature, ApiProblems.StaleRequest, ApiProblems.ReplayedRequest]);
        }

        if (Access == RouteAccess.Ledger)
        {
            all.Add(ApiProblems.UriTooLong);
        }

        return [.. all.DistinctBy(p => (p.Code, p.Status)).OrderBy(p => p.Status).ThenBy(p => p.Code, StringComparer.Ordinal)];
    }
}
