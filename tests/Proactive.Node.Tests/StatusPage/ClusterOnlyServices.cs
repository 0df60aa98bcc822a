using Proactive.Node.Api;
using Proactive.Protocols.Envelopes;

namespace Proactive.Node.Tests.StatusPage;

/// <summary>
/// Application services that only describe the cluster (what the network view asks them): server 1, the
/// API they are given to, at <see cref="Self"/>, and the given peers. The services themselves are not
/// what these tests are about and refuse.
/// </summary>
internal sealed class ClusterOnlyServices((int Id, string? Api)[] peers) : IApplicationServices
{
    /// <summary>Server 1's API address, once it is bound.</summary>
    public string? Self { get; set; }

    public NetworkId Network { get; } = NetworkId.FromBytes(new byte[NetworkId.Length]);

    public ClusterBody Cluster() =>
        new(Network.ToString(), "ed25519", 1 + peers.Length, 2, 1, 60, 4, "ab01", [new ClusterServerBody(1, Self), .. peers.Select(p => new ClusterServerBody(p.Id, p.Api))]);

    public Task<ServiceAnswer<TimeBody>> SignTimeAsync(ReadOnlyMemory<byte> nonce, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<ServiceAnswer<RandomBody>> EvaluateRandomAsync(ApplicationInstance application, byte[] input, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<ServiceAnswer<PeriodCertificateBody>> PeriodCertificateAsync(ulong? period, CancellationToken cancellationToken) => throw new NotSupportedException();
}
