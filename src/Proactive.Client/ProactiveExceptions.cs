// References: docs/API.md "Problem details" (the stable codes); RFC 9457.
namespace Proactive.Client;

/// <summary>Anything that went wrong talking to the network; catch this to catch every client failure.</summary>
public abstract class ProactiveException : Exception
{
    protected ProactiveException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A server answered with an RFC 9457 problem (or an error without one): <see cref="Code"/> is the stable
/// code programs switch on (<c>unknown-handle</c>, <c>stale-request</c>, <c>not-operational</c>, ...).
/// </summary>
public sealed class ProactiveApiException : ProactiveException
{
    public ProactiveApiException(Uri server, int status, string code, string title, string? detail)
        : base($"{server}: {status} {code}: {detail ?? title}")
    {
        Server = server;
        Status = status;
        Code = code;
        Title = title;
        Detail = detail;
    }

    /// <summary>The server that answered.</summary>
    public Uri Server { get; }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The problem's stable code; <c>unexpected-response</c> when the server sent no problem document.</summary>
    public string Code { get; }

    /// <summary>The problem's title.</summary>
    public string Title { get; }

    /// <summary>What was wrong with this request, as the server said it.</summary>
    public string? Detail { get; }
}

/// <summary>A server could not be reached or did not answer in time (connection refused, reset, timeout).</summary>
public sealed class ProactiveUnavailableException : ProactiveException
{
    public ProactiveUnavailableException(Uri server, string message, Exception? innerException = null)
        : base($"{server}: {message}", innerException)
    {
        Server = server;
    }

    /// <summary>The server that could not be reached.</summary>
    public Uri Server { get; }
}

/// <summary>
/// Answers arrived but do not add up: a body that does not parse, a signature or proof that does not
/// verify under the network key, fewer than t+1 verifiable partials. <see cref="Failures"/> says what
/// went wrong at which server.
/// </summary>
public sealed class ProactiveVerificationException : ProactiveException
{
    public ProactiveVerificationException(string message, IReadOnlyDictionary<int, string>? failures = null)
        : base(failures is { Count: > 0 } ? message + " " + string.Join("; ", failures.OrderBy(f => f.Key).Select(f => $"server {f.Key}: {f.Value}")) : message)
    {
        Failures = failures ?? new Dictionary<int, string>();
    }

    /// <summary>What went wrong, by server id (empty when the failure is not one server's).</summary>
    public IReadOnlyDictionary<int, string> Failures { get; }
}
