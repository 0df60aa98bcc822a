// References: toolkit (seed 001) section 5.3 (the services: GetTime, GetRandom); docs/API.md
// "Applications: services" (the routes and their bodies); docs/BRIEF.md section 5.
using System.Buffers.Binary;
using System.Globalization;
using Proactive.Protocols.Services;

namespace Proactive.Node.Api;

/// <summary>The application service routes: the cluster, signed time, randomness, period certificates.</summary>
public sealed partial class NodeApi
{
    /// <summary>The cluster description route (public).</summary>
    public const string ClusterPath = "/v1/cluster";

    /// <summary>The signed time route (authenticated).</summary>
    public const string TimePath = "/v1/time";

    /// <summary>The randomness route (authenticated).</summary>
    public const string RandomPath = "/v1/random";

    /// <summary>The period certificate route (public).</summary>
    public const string PeriodCertificatePath = "/v1/period-certificate";

    /// <summary>
    /// The body limit of <c>POST /v1/random</c>: the largest input (1024 bytes, 2048 hex digits) with
    /// generous room for JSON whitespace, far below <see cref="DefaultMaxBodyBytes"/> because nothing
    /// larger can be valid.
    /// </summary>
    public const long RandomMaxBodyBytes = 16 * 1024;

    private static readonly System.Buffers.SearchValues<char> LowerHexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private IEnumerable<ApiRoute> ServiceRoutes()
    {
        var json = ApplicationApiJsonContext.Default;
        yield return new ApiRoute("GET", ClusterPath, "getCluster", "The network: its id, suite, n, t, f, period, network key and every server's API.", RouteAccess.Public, null, null, json.ClusterBody, [ApiProblems.NotOperational], ServeClusterAsync);
        yield return new ApiRoute("GET", TimePath, "getTime", "This server's local time, signed with its certified period key and bound to the request's nonce.", RouteAccess.Application, null, null, json.TimeBody, [ApiProblems.NotOperational], ServeTimeAsync)
        {
            Description = "The signature is Ed25519 by the publicKey (V_i of the period, listed in that period's certificate) over "
                + $"\"{SignedTime.Label}\" || network id (16) || u16 server || u64 period || i64 unixMilliseconds || nonce (16), big-endian.",
        };
        yield return new ApiRoute("POST", RandomPath, "postRandom", "This server's partial DPRF evaluation on the application's input, with its DLEQ proof.", RouteAccess.Application, RandomMaxBodyBytes, json.RandomRequest, json.RandomBody, [ApiProblems.NotOperational], ServeRandomAsync)
        {
            Description = $"Domain '{ApplicationRandomness.DomainPrefix}<group>', message u8 1 || application id (16) || input. Combine t+1 partials "
                + "of one period, verified against the public shares of that period's certified public state (GET /v1/period-certificate).",
        };
        yield return new ApiRoute("GET", PeriodCertificatePath, "getPeriodCertificate", "The latest period certificate (or that of ?period=), with the public state it certifies.", RouteAccess.Public, null, null, json.PeriodCertificateBody, [ApiProblems.InvalidQuery, ApiProblems.NoCertificate, ApiProblems.NotOperational], ServePeriodCertificateAsync)
        {
            Query = [new QueryParameter("period", "The period whose certificate to give (this server keeps the current and the previous one).", "integer")],
        };
    }

    private Task ServeClusterAsync(ApiRequest request) =>
        _services is null
            ? NoServicesAsync(request)
            : WriteAsync(request.Http, _services.Cluster(), ApplicationApiJsonContext.Default.ClusterBody);

    private async Task ServeTimeAsync(ApiRequest request)
    {
        if (_services is null || request.Application is not { } application)
        {
            await NoServicesAsync(request).ConfigureAwait(false);
            return;
        }

        var nonce = new byte[SignedTime.NonceLength];
        BinaryPrimitives.WriteUInt128BigEndian(nonce, application.Headers.NonceValue);
        var answer = await _services.SignTimeAsync(nonce, request.Http.RequestAborted).ConfigureAwait(false);
        await AnswerAsync(request, answer, ApplicationApiJsonContext.Default.TimeBody).ConfigureAwait(false);
    }

    private async Task ServeRandomAsync(ApiRequest request)
    {
        if (_services is null || request.Application is not { } application)
        {
            await NoServicesAsync(request).ConfigureAwait(false);
            return;
        }

        if (!JsonRequest.TryParse(request.Body.Span, ApplicationApiJsonContext.Default.RandomRequest, out var parsed, out var error))
        {
            await error.WriteAsync(request.Http).ConfigureAwait(false);
            return;
        }

        if (!TryParseHex(parsed.Input, ApplicationRandomness.MaxInputLength, out var input))
        {
            await ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidRequest, $"'input' must be lowercase hex of 0 to {ApplicationRandomness.MaxInputLength} bytes (an even number of digits).").ConfigureAwait(false);
            return;
        }

        var answer = await _services.EvaluateRandomAsync(application.Instance, input, request.Http.RequestAborted).ConfigureAwait(false);
        await AnswerAsync(request, answer, ApplicationApiJsonContext.Default.RandomBody).ConfigureAwait(false);
    }

    private async Task ServePeriodCertificateAsync(ApiRequest request)
    {
        if (_services is null)
        {
            await NoServicesAsync(request).ConfigureAwait(false);
            return;
        }

        ulong? period = null;
        foreach (var (name, values) in request.Http.Request.Query)
        {
            if (name != "period" || values.Count != 1)
            {
                var problem = name != "period" ? $"Unknown query parameter '{name}'; the only one is 'period'." : $"The query parameter 'period' is given {values.Count} times; give it once.";
                await ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidQuery, problem).ConfigureAwait(false);
                return;
            }

            if (!ulong.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                await ApiProblems.WriteAsync(request.Http, ApiProblems.InvalidQuery, $"'period' must be a period number: a whole number from 0 to {ulong.MaxValue} (got '{values[0]}').").ConfigureAwait(false);
                return;
            }

            period = value;
        }

        var answer = await _services.PeriodCertificateAsync(period, request.Http.RequestAborted).ConfigureAwait(false);
        await AnswerAsync(request, answer, ApplicationApiJsonContext.Default.PeriodCertificateBody).ConfigureAwait(false);
    }

    private static Task AnswerAsync<T>(ApiRequest request, ServiceAnswer<T> answer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class =>
        answer.Error is { } error ? error.WriteAsync(request.Http) : WriteAsync(request.Http, answer.Body!, typeInfo);

    private static Task NoServicesAsync(ApiRequest request) =>
        ApiProblems.WriteAsync(request.Http, ApiProblems.NotOperational, "This API serves no application services.", TimeSpan.FromSeconds(5));

    /// <summary>Lowercase hex of at most <paramref name="maxBytes"/> bytes (the API's byte strings are lowercase, so one value has one spelling).</summary>
    private static bool TryParseHex(string text, int maxBytes, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 2 != 0 || text.Length > maxBytes * 2 || text.AsSpan().ContainsAnyExcept(LowerHexDigits))
        {
            return false;
        }

        bytes = Convert.FromHexString(text);
        return true;
    }
}
