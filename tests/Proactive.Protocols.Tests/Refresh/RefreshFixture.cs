using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>
/// A network holding m secrets, dealt by a trusted dealer for the test: secrets 0..a-1 are signing keys
/// with Feldman commitments, the rest data keys with only per-server digests.
/// </summary>
internal sealed class RefreshFixture : IDisposable
{
    public RefreshFixture(PrimeOrderGroup group, ClusterParameters parameters, int secretCount, int signingKeys, ulong seed)
    {
        Group = group;
        Parameters = parameters;
        var random = new DeterministicRandomSource(seed);
        Secrets = new Scalar[secretCount];
        var values = new Scalar[parameters.ServerCount, secretCount];
        var commitments = new List<FeldmanCommitment>();
        for (var k = 0; k < secretCount; k++)
        {
            Secrets[k] = group.RandomScalar(random);
            using var polynomial = Polynomial.Random(group, parameters.Threshold, Secrets[k], random);
            for (var j = 1; j <= parameters.ServerCount; j++)
            {
                values[j - 1, k] = polynomial.Evaluate(group.FromUInt64((ulong)j));
            }

            if (k < signingKeys)
            {
                commitments.Add(polynomial.CommitFeldman());
            }
        }

        State = new RefreshPublicState(group, secretCount, commitments);
        foreach (var j in parameters.Servers)
        {
            var row = Enumerable.Range(0, secretCount).Select(k => values[j - 1, k]).ToArray();
            Shares[j] = new ShareVector(group, j, row);
            Digests[j] = ShareVectorDigest.Compute(Shares[j], random);
        }
    }

    public PrimeOrderGroup Group { get; }

    public ClusterParameters Parameters { get; }

    public Scalar[] Secrets { get; }

    public RefreshPublicState State { get; }

    public Dictionary<int, ShareVector> Shares { get; } = [];

    public Dictionary<int, ShareVectorDigest> Digests { get; } = [];

    /// <summary>Interpolates secret k at 0 from (server, share vector) pairs.</summary>
    public Scalar Reconstruct(int secret, params (int Server, ShareVector Vector)[] points)
    {
        var shares = points.Select(p => new SecretShare(Group, p.Server, p.Vector[secret])).ToArray();
        try
        {
            return Shamir.Reconstruct(Group, shares);
        }
        finally
        {
            foreach (var s in shares)
            {
                s.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var v in Shares.Values)
        {
            v.Dispose();
        }
    }
}
