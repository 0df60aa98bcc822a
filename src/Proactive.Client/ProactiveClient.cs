// References: toolkit (seed 001) section 5 (the API between applications and the servers: every request
// authenticated by the handle; GetTime; GetRandom) and section 5.3; docs/API.md "Applications: services";
// docs/BRIEF.md section 5 (the client SDK checks what it gets).
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Frost;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Services;

namespace Proactive.Client;

/// <summary>
/// A client of a Proactive network: finds every server from one (<c>/v1/cluster</c>), signs requests as
/// an application instance, and verifies every answer it relies on under the network key (period
/// certificates, period keys, DLEQ proofs) instead of trusting the server that sent it.
/// </summary>
/// <remarks>
/// <para>Thread-safe: one client may run calls concurrently. Every call takes a
/// <see cref="CancellationToken"/>; failures are <see cref="ProactiveApiException"/> (a server's problem
/// answer, with its code), <see cref="ProactiveUnavailableException"/> (a server out of reach) or
/// <see cref="ProactiveVerificationException"/> (answers that do not verify).</para>
/// <para><b>Trust.</b> The network key is the anchor: pinned in <see cref="ProactiveClientOptions.NetworkKey"/>,
/// or else taken from the discovery server. Everything else (which key is whose in a period, the public
/// shares of the DPRF key) comes from period certificates checked under it.</para>
/// </remarks>
public sealed partial class ProactiveClient : IDisposable
{
    /// <summary>The digits of the API's one spelling of bytes.</summary>
    internal static readonly System.Buffers.SearchValues<char> LowerHexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private readonly ProactiveClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, CertifiedPeriod> _certified = [];

    /// <summary>Each server's dealing key as last checked against the certified KeyTable (dropped when a hand-over fails).</summary>
    private readonly Dictionary<int, (ulong Period, Crypto.Hpke.HpkePublicKey Key)> _dealingKeys = [];

    /// <summary>Every server's encryption key of one period from its certified KeyTable, for shares sealed into a store request (dropped on <c>stale-period</c>).</summary>
    private (ulong Period, Crypto.Hpke.HpkePublicKey[] Keys)? _sealingKeys;

    // The server the last ledger answer named as the next instance's first proposer (0: none yet).
    private volatile int _proposerHint;
    private ClusterInfo? _cluster;
    private string? _networkId;

    /// <param name="options">The server, the credentials, the trust anchor (validated here).</param>
    /// <exception cref="ArgumentException">An option that cannot work (<see cref="ProactiveClientOptions.Validate"/>).</exception>
    public ProactiveClient(ProactiveClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _ownsHttp = options.HttpClient is null;
        _http = options.HttpClient ?? new HttpClient();
    }

    /// <summary>A client of the network <paramref name="server"/> belongs to, signing as <paramref name="credentials"/> when given.</summary>
    public ProactiveClient(Uri server, ApplicationCredentials? credentials = null, HttpClient? httpClient = null)
        : this(new ProactiveClientOptions { Server = server, Credentials = credentials, HttpClient = httpClient })
    {
    }

    /// <summary>The network as the discovery server describes it; asked once, then kept (once it names a network key).</summary>
    public async Task<ClusterInfo> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _cluster) is { } known)
        {
            return known;
        }

        var cluster = await SendAsync(_options.Server!, HttpMethod.Get, "/v1/cluster", null, signed: false, ClientJsonContext.Default.ClusterInfo, cancellationToken).ConfigureAwait(false);
        if (SuiteOf(cluster.Suite) is null || cluster.Network.Length != NetworkId.Length * 2 || cluster.Threshold < 0 || cluster.Threshold >= cluster.ServerCount)
        {
            throw new ProactiveVerificationException($"{_options.Server} describes a cluster this client cannot use (suite '{cluster.Suite}', n = {cluster.ServerCount}, t = {cluster.Threshold}).");
        }

        Volatile.Write(ref _networkId, cluster.Network);
        if (cluster.NetworkKey is null)
        {
            // A server still initializing (or one just wiped, recovering) knows no key yet: ask again next time instead of keeping that.
            return cluster;
        }

        Interlocked.CompareExchange(ref _cluster, cluster, null);
        return _cluster!;
    }

    /// <summary>
    /// Every server's signed local time (toolkit GetTime): each server is asked once, concurrently; each
    /// answer is checked under the server's period key as the period certificate lists it, and over this
    /// request's nonce. A server that fails is in the vector with its reason, not an exception.
    /// </summary>
    /// <exception cref="InvalidOperationException">No credentials.</exception>
    public async Task<TimeVector> GetTimeAsync(CancellationToken cancellationToken = default)
    {
        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var networkKey = TrustedNetworkKey(cluster);
        var times = await Task.WhenAll(cluster.Servers.Select(server => TimeOfAsync(cluster, networkKey, server, cancellationToken))).ConfigureAwait(false);
        return new TimeVector(cluster.Network, Convert.ToHexStringLower(networkKey.Encode()), times);
    }

    /// <summary>
    /// A joint random value for this application and <paramref name="input"/> (toolkit GetRandom): asks
    /// servers for their partial DPRF evaluations until t+1 of one period verify, combines them, checks
    /// the result, and returns it with the proof material. The value is a function of (application,
    /// input): send a fresh input for fresh randomness.
    /// </summary>
    /// <exception cref="ArgumentException">An input longer than 1024 bytes.</exception>
    /// <exception cref="InvalidOperationException">No credentials.</exception>
    /// <exception cref="ProactiveVerificationException">Fewer than t+1 servers gave verifiable partials of one period (<see cref="ProactiveVerificationException.Failures"/> says why each failed).</exception>
    public async Task<RandomResult> GetRandomAsync(ReadOnlyMemory<byte> input, CancellationToken cancellationToken = default)
    {
        if (input.Length > ApplicationRandomness.MaxInputLength)
        {
            throw new ArgumentException($"Inputs are at most {ApplicationRandomness.MaxInputLength} bytes.", nameof(input));
        }

        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var networkKey = TrustedNetworkKey(cluster);
        var group = networkKey.Suite.Group;
        var prf = ApplicationRandomness.Prf(group);
        var message = ApplicationRandomness.Message(credentials.ApplicationId, input.Span);
        var needed = cluster.Threshold + 1;

        var failures = new Dictionary<int, string>();
        var valid = new Dictionary<ulong, List<DprfPartialEvaluation>>();
        var pending = new Queue<ClusterServerInfo>(cluster.Servers);
        while (pending.Count > 0 && !valid.Values.Any(v => v.Count >= needed))
        {
            var best = valid.Values.Select(v => v.Count).DefaultIfEmpty(0).Max();
            var wave = Enumerable.Range(0, Math.Min(needed - best, pending.Count)).Select(_ => pending.Dequeue()).ToList();
            var answers = await Task.WhenAll(wave.Select(server => PartialOfAsync(cluster, networkKey, prf, server, input, message, cancellationToken))).ConfigureAwait(false);
            foreach (var (server, answer) in wave.Zip(answers))
            {
                if (answer.Error is { } error)
                {
                    failures[server.Id] = error;
                }
                else
                {
                    var list = valid.TryGetValue(answer.Period, out var existing) ? existing : valid[answer.Period] = [];
                    list.Add(answer.Partial!);
                }
            }
        }

        var chosen = valid.Where(v => v.Value.Count >= needed).Select(v => (Period: v.Key, Partials: v.Value)).OrderByDescending(v => v.Period).FirstOrDefault();
        if (chosen.Partials is null)
        {
            var most = valid.Values.Select(v => v.Count).DefaultIfEmpty(0).Max();
            throw new ProactiveVerificationException($"Only {most} of the t+1 = {needed} partials needed (of one period) verified.", failures);
        }

        foreach (var (period, partials) in valid.Where(v => v.Key != chosen.Period))
        {
            foreach (var partial in partials)
            {
                failures[partial.ServerIndex] = $"its partial is of period {period}, the value was made from period {chosen.Period}'s";
            }
        }

        var certified = await CertifiedPeriodAsync(cluster, networkKey, null, chosen.Period, needPublicState: true, cancellationToken).ConfigureAwait(false);
        var publicShares = certified.DprfPublicShares!;
        var combined = prf.Combine(publicShares, message, chosen.Partials);
        if (!combined.Succeeded || !prf.VerifyOutput(publicShares, message, combined.Output!))
        {
            throw new ProactiveVerificationException($"The partials of period {chosen.Period} verified one by one but do not combine into a verifiable value.", failures);
        }

        var output = combined.Output!;
        var value = output.Value.ToArray();
        var proof = new RandomProof(
            RandomProof.FormatTag, cluster.Network, cluster.Suite, Convert.ToHexStringLower(networkKey.Encode()),
            Convert.ToHexStringLower(credentials.ApplicationId), Convert.ToHexStringLower(input.Span), Convert.ToHexStringLower(message),
            chosen.Period, Convert.ToHexStringLower(value), Convert.ToBase64String(output.Encode()),
            Convert.ToBase64String(certified.EncodedCertificate), Convert.ToBase64String(certified.EncodedPublicState!));
        return new RandomResult(value, proof, [.. output.Partials.Select(p => p.ServerIndex)], failures);
    }

    /// <summary>
    /// Checks a random value's proof offline, trusting nothing but <paramref name="networkKey"/> (lowercase
    /// hex): the period certificate verifies under it, the public state is the one it certifies, every
    /// partial's DLEQ proof holds under that state's public shares of the DPRF key, the value is their
    /// combination, and the message binds the proof's application and input. Never throws for a bad proof.
    /// </summary>
    public static RandomVerification VerifyRandom(RandomProof proof, string networkKey)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(networkKey);
        if (proof.Format != RandomProof.FormatTag)
        {
            return RandomVerification.Fail($"its format is '{proof.Format}', not '{RandomProof.FormatTag}'");
        }

        if (SuiteOf(proof.Suite) is not { } suite)
        {
            return RandomVerification.Fail($"unknown suite '{proof.Suite}'");
        }

        var group = suite.Group;
        if (!TryHex(networkKey, out var keyBytes) || !GroupPublicKey.TryDecode(suite, keyBytes, out var trusted) || trusted is null)
        {
            return RandomVerification.Fail($"'{networkKey}' is not a {proof.Suite} network key");
        }

        if (!string.Equals(proof.NetworkKey, networkKey, StringComparison.Ordinal))
        {
            return RandomVerification.Fail("the proof was made under another network key");
        }

        if (!TryHex(proof.Application, out var application) || application.Length != ApplicationRandomness.ApplicationIdLength
            || !TryHex(proof.Input, out var input) || input.Length > ApplicationRandomness.MaxInputLength
            || !TryHex(proof.Message, out var message) || !TryHex(proof.Value, out var value))
        {
            return RandomVerification.Fail("a hex field (application, input, message, value) is malformed");
        }

        if (!message.AsSpan().SequenceEqual(ApplicationRandomness.Message(application, input)))
        {
            return RandomVerification.Fail("the message is not the one of this application and input");
        }

        if (!TryBase64(proof.Certificate, out var certificateBytes) || !PeriodCertificate.TryDecode(certificateBytes, suite, out var certificate))
        {
            return RandomVerification.Fail("the certificate does not decode");
        }

        if (certificate.Period != proof.Period || !certificate.Verify(trusted))
        {
            return RandomVerification.Fail($"the certificate is not the network's certificate of period {proof.Period}");
        }

        if (!TryBase64(proof.PublicState, out var stateBytes) || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(stateBytes), certificate.PublicStateHash)
            || !RefreshPublicState.TryDecode(stateBytes, group, out var state) || state.SigningKeyCount <= ServerController.DprfKeyIndex)
        {
            return RandomVerification.Fail("the public state is not the one the certificate certifies, or holds no DPRF key");
        }

        if (!TryBase64(proof.Output, out var outputBytes) || !DprfOutput.TryDecode(group, outputBytes, out var output))
        {
            return RandomVerification.Fail("the output does not decode");
        }

        var publicShares = DprfPublicShares.FromFeldmanCommitments(state.SigningKeyCommitments[ServerController.DprfKeyIndex]);
        if (!ApplicationRandomness.Prf(group).VerifyOutput(publicShares, message, output))
        {
            return RandomVerification.Fail("the partials' proofs or their combination do not verify under the period's public shares");
        }

        return CryptographicOperations.FixedTimeEquals(output.Value, value)
            ? RandomVerification.Ok
            : RandomVerification.Fail("the value is not the one the partials combine to");
    }

    /// <summary>
    /// The certificate of <paramref name="period"/> (the latest one when null) from <paramref name="server"/>,
    /// checked under the trusted network key, with its KeyTable and, when the server still holds it, its
    /// public state.
    /// </summary>
    public async Task<CertifiedPeriod> GetPeriodCertificateAsync(int server, ulong? period = null, CancellationToken cancellationToken = default)
    {
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var info = cluster.Servers.FirstOrDefault(s => s.Id == server) ?? throw new ArgumentOutOfRangeException(nameof(server), server, "No such server in the cluster.");
        return await FetchCertifiedAsync(cluster, TrustedNetworkKey(cluster), info, period, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the HTTP client when the client made it.</summary>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<ServerTime> TimeOfAsync(ClusterInfo cluster, GroupPublicKey networkKey, ClusterServerInfo server, CancellationToken cancellationToken)
    {
        if (ApiOf(server) is not { } api)
        {
            return new ServerTime(server.Id, false, null, null, null, null, "the configuration gives it no API");
        }

        TimeAnswer? answer = null;
        try
        {
            var sent = new StrongBox<string?>();
            answer = await SendAsync(api, HttpMethod.Get, "/v1/time", null, signed: true, ClientJsonContext.Default.TimeAnswer, cancellationToken, sent).ConfigureAwait(false);
            var nonce = sent.Value!;
            var failure = answer.Server != server.Id ? $"it answered as server {answer.Server}"
                : answer.Nonce != nonce ? "it signed another request's nonce"
                : answer.Time.ToUnixTimeMilliseconds() != answer.UnixMilliseconds ? "its time and unixMilliseconds differ"
                : null;
            if (failure is null)
            {
                var certified = await CertifiedPeriodAsync(cluster, networkKey, server, answer.Period, needPublicState: false, cancellationToken).ConfigureAwait(false);
                failure = certified.Table is null || !certified.Table.TryGet(server.Id, out var entry) ? $"the certificate of period {answer.Period} does not list it"
                    : Convert.ToHexStringLower(entry.Entry.Keys.Signing.Bytes) != answer.PublicKey ? $"it signed with a key that is not its key of period {answer.Period}"
                    : !TryHex(answer.Signature, out var signature) || !entry.Entry.Keys.Signing.Verify(SignedTime.Statement(NetworkId.FromBytes(Convert.FromHexString(cluster.Network)), server.Id, answer.Period, answer.UnixMilliseconds, Convert.FromHexString(nonce)), signature)
                        ? "its signature does not verify"
                        : null;
            }

            return new ServerTime(server.Id, failure is null, answer.Time.ToUniversalTime(), answer.Period, answer.PublicKey, answer.Signature, failure);
        }
        catch (ProactiveException e)
        {
            return new ServerTime(server.Id, false, answer?.Time.ToUniversalTime(), answer?.Period, answer?.PublicKey, answer?.Signature, e.Message);
        }
    }

    private async Task<(ulong Period, DprfPartialEvaluation? Partial, string? Error)> PartialOfAsync(
        ClusterInfo cluster, GroupPublicKey networkKey, DistributedPrf prf, ClusterServerInfo server, ReadOnlyMemory<byte> input, byte[] message,
        CancellationToken cancellationToken)
    {
        if (ApiOf(server) is not { } api)
        {
            return (0, null, "the configuration gives it no API");
        }

        try
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new RandomRequestBody(Convert.ToHexStringLower(input.Span)), ClientJsonContext.Default.RandomRequestBody);
            var answer = await SendAsync(api, HttpMethod.Post, "/v1/random", body, signed: true, ClientJsonContext.Default.RandomAnswer, cancellationToken).ConfigureAwait(false);
            if (answer.Server != server.Id || answer.Message != Convert.ToHexStringLower(message) || answer.Input != Convert.ToHexStringLower(input.Span))
            {
                return (0, null, "it answered for another server, input or message");
            }

            if (!TryHex(answer.Partial.Encoding, out var encoding) || !DprfPartialEvaluation.TryDecode(prf.Group, encoding, out var partial)
                || partial.ServerIndex != server.Id)
            {
                return (0, null, "its partial does not decode as its own");
            }

            var certified = await CertifiedPeriodAsync(cluster, networkKey, server, answer.Period, needPublicState: true, cancellationToken).ConfigureAwait(false);
            if (!certified.DprfPublicShares!.TryGet(server.Id, out var publicShare) || !prf.VerifyPartial(publicShare, message, partial))
            {
                return (0, null, $"its partial's proof does not verify under its public share of period {answer.Period}");
            }

            return (answer.Period, partial, null);
        }
        catch (ProactiveException e)
        {
            return (0, null, e.Message);
        }
    }

    /// <summary>The verified certificate of <paramref name="period"/>: from the cache, from <paramref name="preferred"/>, or from any server that holds it.</summary>
    private async Task<CertifiedPeriod> CertifiedPeriodAsync(
        ClusterInfo cluster, GroupPublicKey networkKey, ClusterServerInfo? preferred, ulong period, bool needPublicState, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_certified.TryGetValue(period, out var known) && (!needPublicState || known.PublicState is not null))
            {
                return known;
            }
        }

        var failures = new Dictionary<int, string>();
        var candidates = (preferred is null ? [] : new[] { preferred }).Concat(cluster.Servers.Where(s => s.Id != preferred?.Id));
        foreach (var server in candidates)
        {
            try
            {
                var certified = await FetchCertifiedAsync(cluster, networkKey, server, period, cancellationToken).ConfigureAwait(false);
                if (needPublicState && certified.PublicState is null)
                {
                    failures[server.Id] = $"it no longer holds the public state of period {period}";
                    continue;
                }

                lock (_gate)
                {
                    _certified[period] = certified;
                    foreach (var old in _certified.Keys.Where(p => p + 2 < period).ToList())
                    {
                        _certified.Remove(old);
                    }
                }

                return certified;
            }
            catch (ProactiveException e)
            {
                failures[server.Id] = e.Message;
            }
        }

        throw new ProactiveVerificationException($"No server gave a verifiable certificate of period {period}.", failures);
    }

    private async Task<CertifiedPeriod> FetchCertifiedAsync(ClusterInfo cluster, GroupPublicKey networkKey, ClusterServerInfo server, ulong? period, CancellationToken cancellationToken)
    {
        var api = ApiOf(server) ?? throw new ProactiveVerificationException($"Server {server.Id} has no API.");
        var path = period is { } p ? $"/v1/period-certificate?period={p}" : "/v1/period-certificate";
        var answer = await SendAsync(api, HttpMethod.Get, path, null, signed: false, ClientJsonContext.Default.PeriodCertificateAnswer, cancellationToken).ConfigureAwait(false);
        return CertifiedPeriod.Verify(answer, networkKey, period) is { } certified
            ? certified
            : throw new ProactiveVerificationException($"Server {server.Id}'s certificate of period {period?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(latest)"} does not verify under the network key {Convert.ToHexStringLower(networkKey.Encode())}.");
    }

    /// <summary>
    /// One request, signed when asked, retried after a 503's Retry-After (a fresh nonce each time), its
    /// answer parsed; a problem answer becomes <see cref="ProactiveApiException"/>, a transport failure
    /// <see cref="ProactiveUnavailableException"/>.
    /// </summary>
    private async Task<T> SendAsync<T>(
        Uri server, HttpMethod method, string pathAndQuery, byte[]? body, bool signed, JsonTypeInfo<T> answerType, CancellationToken cancellationToken, StrongBox<string?>? sentNonce = null)
        where T : class =>
        (await ExchangeAsync(server, method, pathAndQuery, body, signed ? Signing.Fresh : Signing.None, answerType, cancellationToken, sentNonce: sentNonce).ConfigureAwait(false)).Body;

    /// <summary>How a request is signed and retried.</summary>
    private enum Signing
    {
        /// <summary>Not signed (public routes); retried after a 503.</summary>
        None,

        /// <summary>Signed with a new nonce for every attempt (the server recorded the refused attempt's); retried after a 503.</summary>
        Fresh,

        /// <summary>
        /// A ledger operation: signed once and, after a 503, sent again byte for byte. The ledger knows a
        /// request by its bytes, so a resend of one still pending waits for the same answer, and an
        /// operation is never applied twice because its first attempt was slow.
        /// </summary>
        Identical,
    }

    /// <summary>
    /// One request and its answer's body and status (see <see cref="SendAsync{T}"/>). Options: whether a 503
    /// is waited out and tried again (<c>retry</c>; false when the caller asks other servers instead), whose
    /// key signs as which handle (<c>signer</c>, <c>handle</c>: a registration signs with the key it
    /// registers, as <c>new</c>), and signature headers to send as they are (<c>presigned</c>, with
    /// <c>onSigned</c> told them: a ledger operation is one request wherever it goes).
    /// </summary>
    private async Task<(T Body, HttpStatusCode Status)> ExchangeAsync<T>(
        Uri server, HttpMethod method, string pathAndQuery, byte[]? body, Signing signing, JsonTypeInfo<T> answerType, CancellationToken cancellationToken,
        bool retry = true, StrongBox<string?>? sentNonce = null, ApplicationCredentials? signer = null, string? handle = null, string[]? presigned = null,
        Action<string[]>? onSigned = null)
        where T : class
    {
        // presigned: the headers of the same request already sent to another server (a ledger operation is one request wherever it goes).
        var headers = presigned;
        string? earlier = null;
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(server, pathAndQuery));
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            if (signing != Signing.None)
            {
                // A new nonce for every attempt, unless the request is to be resent as it was.
                if (headers is null || signing != Signing.Identical)
                {
                    headers = SignatureHeaders(request, body ?? [], NewNonce(), signer ?? RequireCredentials(), handle);
                    onSigned?.Invoke(headers);
                }

                request.Headers.TryAddWithoutValidation(ApplicationRequestSigning.HandleHeader, headers[0]);
                request.Headers.TryAddWithoutValidation(ApplicationRequestSigning.TimestampHeader, headers[1]);
                request.Headers.TryAddWithoutValidation(ApplicationRequestSigning.NonceHeader, headers[2]);
                request.Headers.TryAddWithoutValidation(ApplicationRequestSigning.SignatureHeader, headers[3]);
                if (sentNonce is not null)
                {
                    sentNonce.Value = headers[2];
                }
            }

            HttpResponseMessage response;
            byte[] content;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new ProactiveUnavailableException(server, e.Message, e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProactiveUnavailableException(server, "no answer in time", e);
            }

            using (response)
            {
                if (response.Headers.TryGetValues(Proactive.Protocols.Application.ApplicationLedger.NextProposerHeader, out var hints)
                    && int.TryParse(hints.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var hint))
                {
                    _proposerHint = hint;
                }

                if (response.IsSuccessStatusCode)
                {
                    try
                    {
                        return (JsonSerializer.Deserialize(content, answerType) ?? throw new JsonException("null"), response.StatusCode);
                    }
                    catch (JsonException e)
                    {
                        throw new ProactiveVerificationException($"{server}: {method} {pathAndQuery} answered a body this client cannot read ({e.Message}).");
                    }
                }

                var problem = ReadProblem(server, response, content);
                if (earlier == "not-agreed-yet" && problem.Code == "replayed-request")
                {
                    // The resend of a request the network then applied: the operation took effect, its answer went to the first attempt.
                    throw new ProactiveApiException(server, problem.Status, problem.Code, problem.Title,
                        $"The network applied this request after its first attempt timed out ({problem.Detail}); read the state to see its outcome.");
                }

                // A key agreed but still generating: resending would only be a replay; the caller waits for the key instead.
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && retry && attempt < _options.MaxRetries && problem.Code != "not-generated-yet")
                {
                    earlier = problem.Code;
                    var delay = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                    await Task.Delay(delay < _options.MaxRetryDelay ? delay : _options.MaxRetryDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw problem;
            }
        }
    }

    private static ProactiveApiException ReadProblem(Uri server, HttpResponseMessage response, byte[] content)
    {
        var status = (int)response.StatusCode;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            try
            {
                if (JsonSerializer.Deserialize(content, ClientJsonContext.Default.ProblemAnswer) is { Code: { } code } problem)
                {
                    return new ProactiveApiException(server, status, code, problem.Title ?? code, problem.Detail);
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all: reported as an unexpected response below.
            }
        }

        return new ProactiveApiException(server, status, "unexpected-response", response.ReasonPhrase ?? "Error", $"HTTP {status} without a problem document.");
    }

    /// <summary>The four header values (handle, timestamp, nonce, signature) of a request signed by <paramref name="signer"/> as <paramref name="handle"/> (its own handle unless given: <c>new</c> to register).</summary>
    private string[] SignatureHeaders(HttpRequestMessage request, byte[] body, string nonce, ApplicationCredentials signer, string? handle)
    {
        handle ??= signer.Handle;
        var timestamp = ApplicationRequestSigning.FormatTimestamp(_options.TimeProvider.GetUtcNow());
        var network = Volatile.Read(ref _networkId) ?? throw new InvalidOperationException("The cluster must be known before signing a request.");
        var signed = ApplicationRequestSigning.SigningBytes(network, handle, request.Method.Method, request.RequestUri!.PathAndQuery, timestamp, nonce, body);
        return [handle, timestamp, nonce, Convert.ToBase64String(signer.Sign(signed))];
    }

    private ApplicationCredentials RequireCredentials() =>
        _options.Credentials ?? throw new InvalidOperationException("This call is made as an application instance: give the client its credentials (proactive app register writes them).");

    private GroupPublicKey TrustedNetworkKey(ClusterInfo cluster)
    {
        var suite = SuiteOf(cluster.Suite)!;
        var hex = _options.NetworkKey ?? cluster.NetworkKey
            ?? throw new ProactiveUnavailableException(_options.Server!, "the network has no key yet (it is initializing)");
        if (_options.NetworkKey is { } pinned && cluster.NetworkKey is { } told && pinned != told)
        {
            throw new ProactiveVerificationException($"{_options.Server} names the network key {told}, not the pinned {pinned}: another network, or a server that lies.");
        }

        return TryHex(hex, out var bytes) && GroupPublicKey.TryDecode(suite, bytes, out var key) && key is not null
            ? key
            : throw new ProactiveVerificationException($"'{hex}' is not a {cluster.Suite} network key.");
    }

    private static Uri? ApiOf(ClusterServerInfo server) =>
        server.Api is { } api && Uri.TryCreate(api, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;

    internal static Ciphersuite? SuiteOf(string name) => name switch
    {
        "ed25519" => Ciphersuite.Ed25519,
        "ristretto255" => Ciphersuite.Ristretto255,
        "p256" => Ciphersuite.P256,
        _ => null,
    };

    private static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(ApplicationRequestSigning.NonceLength));

    /// <summary>Lowercase hex only: the API's one spelling of bytes.</summary>
    internal static bool TryHex(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length % 2 != 0 || text.AsSpan().ContainsAnyExcept(LowerHexDigits))
        {
            return false;
        }

        bytes = Convert.FromHexString(text);
        return true;
    }

    private static bool TryBase64(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// A period certificate checked under the network key: its KeyTable (every server's period keys of that
/// period) and, when the server still held it, the public state it certifies (the DPRF key's public shares).
/// </summary>
public sealed class CertifiedPeriod
{
    private CertifiedPeriod(ulong period, PeriodCertificate certificate, KeyTableDocument? table, byte[] encodedCertificate, RefreshPublicState? state, byte[]? encodedState)
    {
        Period = period;
        Certificate = certificate;
        Table = table;
        EncodedCertificate = encodedCertificate;
        PublicState = state;
        EncodedPublicState = encodedState;
        if (state is { SigningKeyCount: > ServerController.DprfKeyIndex })
        {
            DprfPublicShares = DprfPublicShares.FromFeldmanCommitments(state.SigningKeyCommitments[ServerController.DprfKeyIndex]);
        }
    }

    /// <summary>The certified period.</summary>
    public ulong Period { get; }

    /// <summary>The certificate.</summary>
    public PeriodCertificate Certificate { get; }

    /// <summary>The period's KeyTable: each server's signing key V_i(p); null for period 0, whose root certifies the invariant information instead.</summary>
    public KeyTableDocument? Table { get; }

    /// <summary>The certificate's canonical encoding.</summary>
    public byte[] EncodedCertificate { get; }

    /// <summary>The certified public state; null when the server no longer held it.</summary>
    public RefreshPublicState? PublicState { get; }

    /// <summary>The public state's encoding; null with it.</summary>
    public byte[]? EncodedPublicState { get; }

    /// <summary>The DPRF key's public shares of the period; null without the public state or the key.</summary>
    public DprfPublicShares? DprfPublicShares { get; }

    /// <summary>Checks an answer: decodes, the period is the one asked for, the signature verifies under the network key, the state hashes to the certified hash.</summary>
    internal static CertifiedPeriod? Verify(PeriodCertificateAnswer answer, GroupPublicKey networkKey, ulong? period)
    {
        byte[] encoded;
        byte[]? state = null;
        try
        {
            encoded = Convert.FromBase64String(answer.Certificate);
            state = answer.PublicState is { } text ? Convert.FromBase64String(text) : null;
        }
        catch (FormatException)
        {
            return null;
        }

        if (!PeriodCertificate.TryDecode(encoded, networkKey.Suite, out var certificate) || certificate.Period != answer.Period
            || (period is { } asked && asked != certificate.Period) || !certificate.Verify(networkKey))
        {
            return null;
        }

        // Verify decoded the table for every period but 0, whose root certifies M in the table's place.
        var table = certificate.Period != 0 && certificate.TryGetTable(out var decodedTable) ? decodedTable : null;

        RefreshPublicState? decoded = null;
        if (state is not null)
        {
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(state), certificate.PublicStateHash)
                || !RefreshPublicState.TryDecode(state, networkKey.Suite.Group, out decoded))
            {
                return null;
            }
        }

        return new CertifiedPeriod(certificate.Period, certificate, table, encoded, decoded, decoded is null ? null : state);
    }
}
