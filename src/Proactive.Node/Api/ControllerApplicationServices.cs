// References: toolkit (seed 001) section 5.3 (GetTime: every server's local time; GetRandom);
// docs/API.md "Applications: services"; docs/NODE.md "The node" (only the loop touches the controller).
using System.Security.Cryptography;
using Proactive.Crypto.Random;
using Proactive.Node.Configuration;
using Proactive.Node.Hosting;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Services;

namespace Proactive.Node.Api;

/// <summary>Runs work where the controller may be touched: the node's loop (or, in tests, inline).</summary>
internal interface INodeLoop
{
    /// <summary>Runs <paramref name="work"/> on the loop and returns its result to the caller's thread.</summary>
    Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken);
}

/// <summary>
/// The application services over a server's controller: every answer is computed on the loop from the
/// controller's state (period keys, certificates, the DPRF share), so a request never races the protocol
/// that changes that state.
/// </summary>
/// <remarks>
/// <para><b>Which period.</b> A client checks a signed time with the server's key as the period
/// certificate's KeyTable lists it, and a partial with the public shares of the certified public state.
/// So the time is signed with the key of the latest period that is certified and whose key this server
/// still holds (the current one once its certificate is out, the previous one during the few seconds of
/// a refresh), and a partial is made only once the period whose shares it uses is certified. Before that
/// the answer is 503 <c>not-operational</c> with a short <c>Retry-After</c>: the certificate follows the
/// refresh within seconds.</para>
/// </remarks>
internal sealed class ControllerApplicationServices : IApplicationServices
{
    private static readonly TimeSpan SoonRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LaterRetry = TimeSpan.FromSeconds(5);

    private readonly ClusterConfig _config;
    private readonly int _self;
    private readonly INodeLoop _loop;
    private readonly Func<ServerController?> _operationalController;
    private readonly Func<NodeSnapshot> _snapshot;
    private readonly IRandomSource _random;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<ClusterServerBody> _servers;

    // Whether this server is listed with its key in a certificate's table: decoded once per certificate.
    private PeriodCertificate? _listedCertificate;
    private PeriodKeys? _listedKeys;
    private bool _listed;

    /// <param name="config">The constants C.</param>
    /// <param name="self">This server's id.</param>
    /// <param name="loop">Where the controller may be touched.</param>
    /// <param name="operationalController">On the loop: the controller when the node is operational, else null.</param>
    /// <param name="snapshot">Any thread: the node's latest snapshot.</param>
    /// <param name="random">The nonces of the DLEQ proofs.</param>
    /// <param name="time">This server's clock (what <c>/v1/time</c> tells).</param>
    public ControllerApplicationServices(
        ClusterConfig config, int self, INodeLoop loop, Func<ServerController?> operationalController, Func<NodeSnapshot> snapshot,
        IRandomSource random, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(operationalController);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(time);
        _config = config;
        _self = self;
        _loop = loop;
        _operationalController = operationalController;
        _snapshot = snapshot;
        _random = random;
        _time = time;
        _servers = [.. config.Servers.Select(s => new ClusterServerBody(s.Id, s.ApiEndpoint is { } endpoint ? $"http://{endpoint}/" : null))];
    }

    /// <inheritdoc />
    public NetworkId Network => _config.NetworkId;

    /// <inheritdoc />
    public ClusterBody Cluster()
    {
        var snapshot = _snapshot();
        var parameters = _config.Parameters;
        return new ClusterBody(
            _config.NetworkId.ToString(), _config.SuiteName, parameters.ServerCount, parameters.Threshold, parameters.Faults,
            (long)_config.Period.TotalSeconds, snapshot.Period, snapshot.NetworkKey, _servers);
    }

    /// <inheritdoc />
    public Task<ServiceAnswer<TimeBody>> SignTimeAsync(ReadOnlyMemory<byte> nonce, CancellationToken cancellationToken)
    {
        if (nonce.Length != SignedTime.NonceLength)
        {
            throw new ArgumentException($"The nonce is {SignedTime.NonceLength} bytes.", nameof(nonce));
        }

        return _loop.RunAsync(() => SignTime(nonce.Span), cancellationToken);
    }

    /// <inheritdoc />
    public Task<ServiceAnswer<RandomBody>> EvaluateRandomAsync(ApplicationInstance application, byte[] input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(input);
        var message = ApplicationRandomness.Message(application.ApplicationId, input);
        return _loop.RunAsync(() => EvaluateRandom(input, message), cancellationToken);
    }

    /// <inheritdoc />
    public Task<ServiceAnswer<PeriodCertificateBody>> PeriodCertificateAsync(ulong? period, CancellationToken cancellationToken) =>
        _loop.RunAsync(() => Certificate(period), cancellationToken);

    private ServiceAnswer<TimeBody> SignTime(ReadOnlySpan<byte> nonce)
    {
        if (_operationalController() is not { } controller)
        {
            return ServiceAnswer<TimeBody>.Refused(NotOperational());
        }

        foreach (var period in RecentPeriods(controller))
        {
            if (period == 0 || controller.CertificateOf(period) is not { } certificate || controller.PeriodKeysOf(period) is not { } keys
                || !IsListed(certificate, keys))
            {
                continue; // period 0's root certifies M, not a KeyTable: no period key is certified by it
            }

            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var signature = keys.Signing.Sign(SignedTime.Statement(_config.NetworkId, _self, period, now, nonce));
            return ServiceAnswer<TimeBody>.Of(new TimeBody(
                _self, period, DateTimeOffset.FromUnixTimeMilliseconds(now), now, Convert.ToHexStringLower(nonce),
                Convert.ToHexStringLower(keys.Signing.PublicKey.Bytes), Convert.ToHexStringLower(signature)));
        }

        return ServiceAnswer<TimeBody>.Refused(new ApiError(
            ApiProblems.NotOperational,
            $"Server {_self} holds no period key that a period certificate lists yet (period {controller.CurrentPeriod}); the certificate follows the period's refresh.",
            SoonRetry));
    }

    private ServiceAnswer<RandomBody> EvaluateRandom(byte[] input, byte[] message)
    {
        if (_operationalController() is not { } controller)
        {
            return ServiceAnswer<RandomBody>.Refused(NotOperational());
        }

        if (controller.CommittedPeriod is not { } committed || controller.CertificateOf(committed) is null)
        {
            return ServiceAnswer<RandomBody>.Refused(new ApiError(
                ApiProblems.NotOperational,
                $"Server {_self}'s shares are of a period whose certificate it does not hold yet; the certificate follows the refresh.",
                SoonRetry));
        }

        if (controller.EvaluateApplicationRandomness(message, _random) is not { } evaluated)
        {
            return ServiceAnswer<RandomBody>.Refused(new ApiError(
                ApiProblems.NotOperational, $"Server {_self} holds no valid share of the DPRF key now (it is recovering).", LaterRetry));
        }

        var partial = evaluated.Partial;
        var group = partial.Group;
        return ServiceAnswer<RandomBody>.Of(new RandomBody(
            _self, evaluated.Period, Convert.ToHexStringLower(input), Convert.ToHexStringLower(message),
            new RandomPartialBody(
                partial.ServerIndex,
                Convert.ToHexStringLower(group.EncodeElement(partial.Value)),
                Convert.ToHexStringLower(partial.Proof.Encode()),
                Convert.ToHexStringLower(partial.Encode()))));
    }

    private ServiceAnswer<PeriodCertificateBody> Certificate(ulong? period)
    {
        if (_operationalController() is not { } controller)
        {
            return ServiceAnswer<PeriodCertificateBody>.Refused(NotOperational());
        }

        var held = RecentPeriods(controller).Where(p => controller.CertificateOf(p) is not null).ToList();
        PeriodCertificate? certificate;
        if (period is { } asked)
        {
            certificate = controller.CertificateOf(asked);
            if (certificate is null)
            {
                var holds = held.Count == 0 ? "none" : string.Join(" and ", held.Order());
                return ServiceAnswer<PeriodCertificateBody>.Refused(new ApiError(
                    ApiProblems.NoCertificate, $"Server {_self} holds no certificate of period {asked}; it keeps the current and the previous period's (it holds: {holds})."));
            }
        }
        else if (held.Count == 0)
        {
            return ServiceAnswer<PeriodCertificateBody>.Refused(new ApiError(
                ApiProblems.NotOperational, $"Server {_self} holds no period certificate yet.", SoonRetry));
        }
        else
        {
            certificate = controller.CertificateOf(held.Max())!;
        }

        string? publicState = null;
        if (controller.PublicState is { } state)
        {
            var encoded = state.Encode();
            if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(encoded), certificate.PublicStateHash))
            {
                publicState = Convert.ToBase64String(encoded);
            }
        }

        return ServiceAnswer<PeriodCertificateBody>.Of(new PeriodCertificateBody(certificate.Period, Convert.ToBase64String(certificate.Encode()), publicState));
    }

    /// <summary>The current period and the previous one, newest first: the periods whose keys and certificates the controller keeps.</summary>
    private static ulong[] RecentPeriods(ServerController controller) =>
        controller.CurrentPeriod == 0 ? [0] : [controller.CurrentPeriod, controller.CurrentPeriod - 1];

    private bool IsListed(PeriodCertificate certificate, PeriodKeys keys)
    {
        if (!ReferenceEquals(certificate, _listedCertificate) || !ReferenceEquals(keys, _listedKeys))
        {
            _listed = certificate.TryGetTable(out var table) && table.TryGet(_self, out var entry)
                && entry.Entry.Keys.Signing.Equals(keys.Signing.PublicKey);
            _listedCertificate = certificate;
            _listedKeys = keys;
        }

        return _listed;
    }

    private ApiError NotOperational() =>
        new(ApiProblems.NotOperational, $"Server {_self} is not operational (state '{_snapshot().State}'); it serves applications once it holds its keys and shares.", LaterRetry);
}
