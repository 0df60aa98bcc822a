using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Node.Configuration;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Refresh;

namespace Proactive.Node.Tests.Support;

/// <summary>
/// A network's state after a committed and certified period, dealt directly instead of run: the network
/// key and the DPRF key Shamir-shared (signing keys 0 and 1 of the public state, as the DKGs leave them),
/// every server's period keys, the decided KeyTable, and the period certificate FROST-signed by t+1
/// network-key shares. Controllers are restored from it exactly as a node restores one from its store
/// after a restart, so the services run on real controllers without running the protocols.
/// </summary>
internal sealed class DealtNetwork : IDisposable
{
    private readonly Dictionary<int, Dictionary<string, byte[]>> _stores = [];
    private readonly Dictionary<int, PeriodKeys> _keys = [];
    private readonly Scalar _dprfSecret;

    /// <param name="serverCount">n.</param>
    /// <param name="threshold">t.</param>
    /// <param name="faults">f.</param>
    /// <param name="period">The committed and certified period.</param>
    /// <param name="apiPorts">Each server's API port in the configuration (by id); none when null.</param>
    public DealtNetwork(int serverCount = 4, int threshold = 1, int faults = 1, ulong period = 3, IReadOnlyDictionary<int, int>? apiPorts = null)
    {
        var random = SystemRandomSource.Instance;
        var servers = Enumerable.Range(1, serverCount).Select(id =>
        {
            using var start = Ed25519PrivateKey.Generate(random);
            return new ClusterServer(id, "127.0.0.1", 9000 + id, apiPorts?.GetValueOrDefault(id), start.PublicKey);
        }).ToList();
        if (!ClusterConfig.TryCreate(servers, threshold, faults, TimeSpan.FromHours(1), "ed25519", null, out var config, out var errors))
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        Config = config;
        Period = period;
        var group = PrimeOrderGroup.Ed25519;
        using var networkPolynomial = Polynomial.Random(group, threshold, group.RandomNonzeroScalar(random), random);
        using var dprfPolynomial = Polynomial.Random(group, threshold, group.RandomNonzeroScalar(random), random);
        _dprfSecret = dprfPolynomial.ConstantTerm;
        var networkCommitment = FeldmanCommitment.Commit(networkPolynomial);
        PublicState = new RefreshPublicState(group, 2, [networkCommitment, FeldmanCommitment.Commit(dprfPolynomial)]);
        NetworkKey = new GroupPublicKey(Ciphersuite.Ed25519, networkCommitment.ConstantTerm);

        foreach (var id in config.Parameters.Servers)
        {
            _keys[id] = PeriodKeys.Generate(id, period, random);
        }

        var table = new KeyTableDocument(period, _keys.Values.Select(k =>
            SignedKeyTableEntry.Create(new KeyTableEntry(k.PublicKeys, ServerController.NoTlsFingerprint), config.NetworkId, k.Signing, null)));
        var stateHash = PeriodCertificate.HashPublicState(PublicState);
        var encodedTable = table.Encode();
        Certificate = new PeriodCertificate(period, encodedTable, stateHash, Sign(networkPolynomial, PeriodCertificate.SigningMessage(period, encodedTable, stateHash)));

        var committed = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(committed, period);
        foreach (var id in config.Parameters.Servers)
        {
            using var shares = new ShareVector(group, id, [networkPolynomial.Evaluate(group.FromUInt64((ulong)id)), dprfPolynomial.Evaluate(group.FromUInt64((ulong)id))]);
            _stores[id] = new Dictionary<string, byte[]>
            {
                [ServerController.SharesKey] = shares.Encode(),
                [ServerController.PublicStateKey] = PublicState.Encode(),
                [ServerController.CommittedPeriodKey] = committed,
                [ServerController.CertificateKeyOf(period)] = Certificate.Encode(),
            };
        }
    }

    public ClusterConfig Config { get; }

    public NetworkId Network => Config.NetworkId;

    public ulong Period { get; }

    /// <summary>The network key (signing key 0's public key): what a client trusts.</summary>
    public GroupPublicKey NetworkKey { get; }

    /// <summary>The network key as <c>/v1/cluster</c> gives it.</summary>
    public string NetworkKeyHex => Convert.ToHexStringLower(NetworkKey.Encode());

    public RefreshPublicState PublicState { get; }

    public PeriodCertificate Certificate { get; }

    /// <summary>Server <paramref name="id"/>'s signing key of the period, as its KeyTable entry lists it.</summary>
    public Ed25519PublicKey PeriodKeyOf(int id) => _keys[id].Signing.PublicKey;

    /// <summary>x * H(m): what any t+1 correct partials must combine to (the test knows the DPRF secret; nobody else does).</summary>
    public Element DirectEvaluation(Proactive.Crypto.Dprf.DistributedPrf prf, ReadOnlySpan<byte> message) =>
        prf.Group.Multiply(prf.HashInput(message), _dprfSecret);

    /// <summary>Server <paramref name="id"/>'s controller, restored from its dealt store, with its period keys installed.</summary>
    public ServerController Restore(int id)
    {
        var controller = ServerController.Restore(id, Config.Parameters, Config.Suite.Group, Config.NetworkId, null, _stores[id]);
        controller.InstallPeriodKeys(Copy(_keys[id]), _keys.Values.Select(k => k.PublicKeys));
        return controller;
    }

    /// <summary>Free loopback ports, one per server (released before use: the usual small race of tests that need a port in a file).</summary>
    public static Dictionary<int, int> FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select((l, i) => (Id: i + 1, Port: ((IPEndPoint)l.LocalEndpoint).Port)).ToDictionary(p => p.Id, p => p.Port);
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    public void Dispose()
    {
        foreach (var keys in _keys.Values)
        {
            keys.Dispose();
        }
    }

    /// <summary>FROST over the network key: t+1 shares of <paramref name="polynomial"/> sign <paramref name="message"/>.</summary>
    private Signature Sign(Polynomial polynomial, byte[] message)
    {
        var suite = Ciphersuite.Ed25519;
        var group = suite.Group;
        var parameters = Config.Parameters;
        var publicPackage = TrustedDealer.DeriveGroupInfo(suite, parameters.ServerCount, FeldmanCommitment.Commit(polynomial));
        var signers = Enumerable.Range(1, parameters.Threshold + 1)
            .Select(i => new KeyPackage(new SigningShare(suite, Identifier.FromInt(suite, i), polynomial.Evaluate(group.FromUInt64((ulong)i))), NetworkKey, parameters.Threshold + 1, parameters.ServerCount))
            .ToList();
        var nonces = signers.Select(k => Round1.Commit(k.SigningShare, SystemRandomSource.Instance)).ToList();
        try
        {
            var package = SigningPackage.Create(suite, nonces.Select(n => n.Commitments), message);
            var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value).ToList();
            return Aggregation.Aggregate(package, shares, publicPackage).Value;
        }
        finally
        {
            nonces.ForEach(n => n.Dispose());
            signers.ForEach(k => k.Dispose());
        }
    }

    /// <summary>A copy of <paramref name="keys"/>, so that each restored controller owns (and disposes) its own.</summary>
    private static PeriodKeys Copy(PeriodKeys keys)
    {
        Span<byte> secret = stackalloc byte[32];
        try
        {
            keys.Signing.WriteSeedTo(secret);
            var signing = Ed25519PrivateKey.FromSeed(secret);
            keys.Encryption.WriteTo(secret);
            return HpkePrivateKey.TryImport(secret, out var encryption)
                ? PeriodKeys.FromKeys(keys.ServerId, keys.Period, signing, encryption)
                : throw new InvalidOperationException("An HPKE key did not survive its own export.");
        }
        finally
        {
            secret.Clear();
        }
    }
}
