// References: toolkit (seed 001) section 5.3 (the services); docs/API.md "Applications: services".
using Proactive.Protocols.Envelopes;

namespace Proactive.Node.Api;

/// <summary>
/// What the node does for the application service routes, behind the API: the node implements it over
/// its loop and controller (<c>ControllerApplicationServices</c>). Every method is called on a request
/// thread; the asynchronous ones do their work on the node's loop.
/// </summary>
public interface IApplicationServices
{
    /// <summary>This network's id (every authenticated request is signed for it).</summary>
    NetworkId Network { get; }

    /// <summary><c>GET /v1/cluster</c>: from the configuration and the node's snapshot; any thread, quick.</summary>
    ClusterBody Cluster();

    /// <summary><c>GET /v1/time</c>: this server's time signed with its latest certified period key, bound to the request's 16-byte nonce.</summary>
    Task<ServiceAnswer<TimeBody>> SignTimeAsync(ReadOnlyMemory<byte> nonce, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/random</c>: this server's partial evaluation for <paramref name="application"/> on <paramref name="input"/> (at most 1024 bytes).</summary>
    Task<ServiceAnswer<RandomBody>> EvaluateRandomAsync(ApplicationInstance application, byte[] input, CancellationToken cancellationToken);

    /// <summary><c>GET /v1/period-certificate</c>: the certificate of <paramref name="period"/>, or the latest one held when null.</summary>
    Task<ServiceAnswer<PeriodCertificateBody>> PeriodCertificateAsync(ulong? period, CancellationToken cancellationToken);
}

/// <summary>A service's answer: the body, or the problem to answer instead (e.g. 503 <c>not-operational</c>).</summary>
/// <typeparam name="T">The body type.</typeparam>
public sealed record ServiceAnswer<T>(T? Body, ApiError? Error)
    where T : class
{
    /// <summary>An answer with a body.</summary>
    public static ServiceAnswer<T> Of(T body) => new(body, null);

    /// <summary>A refusal.</summary>
    public static ServiceAnswer<T> Refused(ApiError error) => new(null, error);
}
