// References: docs/API.md "Applications" (registration and storage, served by ApplicationRoutes).
using Proactive.Protocols.Application;

namespace Proactive.Node.Api;

/// <summary>
/// The registration and storage routes <see cref="ApplicationRoutes"/> maps, listed in the route table
/// without a handler: so that <c>/openapi.json</c> describes them and a wrong method on their paths is a
/// 405. Their problems are the codes <see cref="ApplicationRoutes"/> and the application state answer
/// with; once those routes are served through the table (their own <see cref="ApiRoute"/> handlers) this
/// list goes.
/// </summary>
public sealed partial class NodeApi
{
    private static IEnumerable<ApiRoute> GatewayRoutes()
    {
        ProblemKind Problem(string code, int status) => ApiProblems.All.FirstOrDefault(p => p.Code == code && p.Status == status)
            ?? new ProblemKind(code, status, char.ToUpperInvariant(code[0]) + code[1..].Replace('-', ' '));

        ProblemKind[] common =
        [
            Problem("malformed-json", 400), Problem("unauthenticated", 401), Problem("unknown-handle", 401), Problem("bad-signature", 401),
            Problem("stale-request", 401), Problem("payload-too-large", 413), Problem("uri-too-long", 414), Problem("busy", 503),
            Problem("not-operational", 503), Problem("not-agreed-yet", 503),
        ];
        ProblemKind[] submit =
        [
            .. common, Problem("invalid-request", 400), Problem("bad-share", 400), Problem("bad-password", 403),
            Problem("not-yet", 403), Problem("quota-exceeded", 403), Problem("unknown-data", 404), Problem("share-missing", 404),
            Problem("already-exists", 409), Problem("already-registered", 409), Problem("not-distributed-reader", 409), Problem("not-secret", 409),
            Problem("replayed-request", 409), Problem("stale-period", 409), Problem("version-mismatch", 409), Problem("write-once", 409),
            Problem("quota-exceeded", 507),
        ];
        ProblemKind[] read = [.. common, Problem("not-found", 404), Problem("unknown-data", 404)];
        long body = SignedRequest.MaxBodyLength;
        yield return new ApiRoute("POST", ApplicationRoutes.AppsPath, "postApp", "Register an application instance (handle 'new', signed with the key it registers).", RouteAccess.Application, body, null, null, submit, null);
        yield return new ApiRoute("GET", ApplicationRoutes.SelfPath, "getAppSelf", "The calling application: its registration, quota and use.", RouteAccess.Application, body, null, null, read, null);
        yield return new ApiRoute("POST", ApplicationRoutes.DataPath, "postData", "Store a data entry (agreed through the ledger before the answer).", RouteAccess.Application, body, null, null, submit, null);
        yield return new ApiRoute("PUT", ApplicationRoutes.DataPath + "/{id}", "putData", "Write a data entry (agreed through the ledger before the answer).", RouteAccess.Application, body, null, null, submit, null);
        yield return new ApiRoute("GET", ApplicationRoutes.DataPath + "/{id}", "getData", "Read one of the caller's data entries from this server's agreed state.", RouteAccess.Application, body, null, null, read, null);
        yield return new ApiRoute("GET", ApplicationRoutes.DataPath + "/{id}/share", "getDataShare", "This server's share of a secret entry, HPKE-sealed to the X25519 key given as ?to= (released per the entry's type).", RouteAccess.Application, body, null, null, [.. read, Problem("invalid-request", 400), Problem("quota-exceeded", 403)], null)
        {
            Query = [new QueryParameter("to", "The X25519 public key (64 lowercase hex digits) to seal the share to.", "string")],
        };
        yield return new ApiRoute("POST", ApplicationRoutes.DataPath + "/{id}/release", "postDataRelease", "Ask for (or approve) the release of a distributed secret entry (agreed through the ledger).", RouteAccess.Application, body, null, null, submit, null);
        yield return new ApiRoute("GET", ApplicationRoutes.DealingKeyPath, "getDealingKey", "This server's key of the period to seal dealt shares to.", RouteAccess.Public, null, null, null, [Problem("busy", 503), Problem("not-operational", 503)], null);
        ProblemKind[] keys = [.. submit, Problem("unknown-key", 404), Problem("quorum-required", 403), Problem("not-signed", 503)];
        yield return new ApiRoute("POST", ApplicationRoutes.KeysPath, "postKey", "Generate a threshold signing key owned by the application (a DKG; answered once it completes).", RouteAccess.Application, body, null, null, keys, null);
        yield return new ApiRoute("GET", ApplicationRoutes.KeysPath + "/{id}", "getKey", "One of the application's keys: its public key and state.", RouteAccess.Application, body, null, null, [.. read, Problem("unknown-key", 404)], null);
        yield return new ApiRoute("POST", ApplicationRoutes.KeysPath + "/{id}/sign", "postKeySign", "Sign a message with one of the application's keys (FROST among the servers).", RouteAccess.Application, body, null, null, keys, null);
        yield return new ApiRoute("POST", ApplicationRoutes.KeysPath + "/{id}/approve", "postKeyApprove", "Approve a signing request of a distributed application (agreed through the ledger).", RouteAccess.Application, body, null, null, keys, null);
        yield return new ApiRoute("PUT", ApplicationRoutes.DealingsPath + "/{dealing}", "putDealing", "Hand this server its HPKE-sealed share of a secret the client dealt.", RouteAccess.Application, body, null, null, [.. common, Problem("invalid-request", 400)], null);
    }
}
