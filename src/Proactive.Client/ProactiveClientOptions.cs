// References: STYLE.md rule 10 (options with defaults that work for the local cluster).
namespace Proactive.Client;

/// <summary>How a <see cref="ProactiveClient"/> reaches and trusts the network. To add a setting: a property with a default that works against the local cluster, checked in <see cref="Validate"/>.</summary>
public sealed class ProactiveClientOptions
{
    /// <summary>Any server's API (<c>http://127.0.0.1:7101/</c>): the client asks it for the cluster, then talks to every server.</summary>
    public Uri? Server { get; set; }

    /// <summary>The application instance requests are signed as; needed for time and randomness (not owned: the caller disposes it).</summary>
    public ApplicationCredentials? Credentials { get; set; }

    /// <summary>
    /// The network key to trust, lowercase hex. When null, the key the discovery server gives in
    /// <c>/v1/cluster</c> is trusted (trust on first use: pin it here when you know it).
    /// </summary>
    public string? NetworkKey { get; set; }

    /// <summary>The HTTP client to use (not disposed by the client); a new one when null.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>How often a request a server refused with 503 (busy, not operational) is tried again, after its Retry-After.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The longest wait before a retry, whatever Retry-After says.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock request timestamps come from.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws for a setting that cannot work.</summary>
    /// <exception cref="ArgumentException">No server, a server that is not an absolute http(s) URL, or a bad network key.</exception>
    public void Validate()
    {
        if (Server is null || !Server.IsAbsoluteUri || (Server.Scheme != Uri.UriSchemeHttp && Server.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("Server must be an absolute http:// or https:// URL of a server's API.", nameof(Server));
        }

        if (NetworkKey is { } key && (key.Length == 0 || key.Length % 2 != 0 || key.AsSpan().ContainsAnyExcept(ProactiveClient.LowerHexDigits)))
        {
            throw new ArgumentException("NetworkKey must be lowercase hex.", nameof(NetworkKey));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
