using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Tests.Controller;

/// <summary>
/// The period certificate through the controllers (n = 4, t = 1, f = 1): the network key from a DKG,
/// one refresh, the KeyTable, the FROST session and the distribution, on <see cref="ControllerTestNetwork"/>.
/// </summary>
public sealed class ControllerCertificateTests
{
    private static readonly ClusterParameters Parameters = ClusterParameters.Create(4, 1, 1);

    /// <summary>The scheduled coordinator of period 1: (1 mod 4) + 1.</summary>
    private const int CoordinatorOfPeriodOne = 2;

    private static GroupPublicKey NetworkKey(ControllerTestNetwork net) =>
        new(Ciphersuite.Ed25519, net.Controllers[1].NetworkKey!.GroupPublicKey);

    private static byte[] DecidedTable(ControllerTestNetwork net, int server, ulong period) =>
        net.EventsOf<KeyTableDecided>(server).Single(d => d.Instance == ServerController.KeyTableOf(period)).EncodedTable;

    private static bool Certified(ControllerTestNetwork net, ulong period, IEnumerable<int> servers) =>
        servers.All(s => net.Controllers[s].CertificateOf(period) is not null);

    private static void AssertCertifiesOwnRoot(ControllerTestNetwork net, int server, ulong period, PeriodCertificate expected)
    {
        var held = net.Controllers[server].CertificateOf(period);
        Assert.NotNull(held);
        Assert.Equal(expected.Encode(), held.Encode());
        Assert.True(held.Verify(NetworkKey(net)), $"server {server}: the certificate does not verify with the network key");
        Assert.True(held.Certifies(period, DecidedTable(net, server, period), PeriodCertificate.HashPublicState(net.Controllers[server].PublicState!)), $"server {server}: another root");
    }

    [Fact]
    public void Every_server_keeps_the_same_certificate_of_the_period_root_made_by_one_signature_of_the_scheduled_coordinator()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 1);
        net.RunNetworkKeyDkg();
        net.BeginPeriod(1, []);

        Assert.True(net.RunUntil(() => Certified(net, 1, Parameters.Servers), TimeSpan.FromSeconds(30)), "not every server holds a certificate");
        var certificate = net.Controllers[CoordinatorOfPeriodOne].CertificateOf(1)!;
        foreach (var server in Parameters.Servers)
        {
            AssertCertifiesOwnRoot(net, server, 1, certificate);
            Assert.Equal(certificate.Encode(), net.Stores[server][ServerController.CertificateKeyOf(1)]);
            Assert.DoesNotContain(net.EventsOf<Alert>(server), a => a.Instance is { } i && (i.Protocol == ProtocolKind.Signing || i == PeriodCertificateMachine.InstanceOf(1)));
        }

        // One signature per period: one session, by the scheduled coordinator, and t + 1 shares.
        var produced = Parameters.Servers.SelectMany(s => net.EventsOf<SignatureProduced>(s).Select(p => (Server: s, Produced: p))).ToList();
        var (coordinator, signature) = Assert.Single(produced);
        Assert.Equal(CoordinatorOfPeriodOne, coordinator);
        Assert.Equal(SigningSessionIds.Session(1, CoordinatorOfPeriodOne, 1), signature.Instance);
        Assert.Equal(Parameters.ReconstructionThreshold, signature.Signers.Count);

        // A restart keeps it.
        net.Restart(3, 1);
        Assert.Equal(certificate.Encode(), net.Controllers[3].CertificateOf(1)!.Encode());
    }

    [Fact]
    public void A_silent_coordinator_is_replaced_by_the_next_one_after_the_deadline_and_catches_up_on_the_certificate_later()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 2);
        net.RunNetworkKeyDkg();
        var others = Parameters.Servers.Where(s => s != CoordinatorOfPeriodOne).ToArray();
        net.Silent.Add(CoordinatorOfPeriodOne);
        net.BeginPeriod(1, [], others);

        Assert.True(net.RunUntil(() => Certified(net, 1, others), TimeSpan.FromSeconds(40)), "the fallback did not certify the period");
        var (coordinator, signature) = Assert.Single(others.SelectMany(s => net.EventsOf<SignatureProduced>(s).Select(p => (Server: s, Produced: p))));
        Assert.Equal(PeriodCertificateMachine.CoordinatorOf(1, 2, Parameters.ServerCount), coordinator);
        Assert.Equal(SigningSessionIds.Session(1, coordinator, 2), signature.Instance);
        var committedAt = net.Events[coordinator].First(e => e.Event is PeriodCommitted { Period: 1 }).Time;
        var certifiedAt = net.Events[coordinator].First(e => e.Event is PeriodCertified).Time;
        Assert.True(certifiedAt - committedAt >= ControllerTestNetwork.Fast.Certificate!.Deadline, $"certified {certifiedAt - committedAt} after the commit");
        var certificate = net.Controllers[coordinator].CertificateOf(1)!;
        foreach (var server in others)
        {
            AssertCertifiesOwnRoot(net, server, 1, certificate);
        }

        // Back for period 2: it catches up on the refresh of period 1 and fetches its certificate (no table to compare: the signature is what matters).
        net.Silent.Remove(CoordinatorOfPeriodOne);
        net.BeginPeriod(2, []);
        Assert.True(net.RunUntil(() => Certified(net, 2, Parameters.Servers) && Certified(net, 1, Parameters.Servers), TimeSpan.FromSeconds(40)), "period 2 or the late certificate of period 1 missing");
        Assert.Equal(1UL, net.Controllers[CoordinatorOfPeriodOne].MissedRefreshApplied);
        Assert.Equal(certificate.Encode(), net.Controllers[CoordinatorOfPeriodOne].CertificateOf(1)!.Encode());
        Assert.Single(Parameters.Servers.Select(s => Convert.ToHexString(net.Controllers[s].CertificateOf(2)!.Encode())).Distinct());
    }

    [Fact]
    public void A_forged_certificate_raises_InvalidSignature_naming_its_sender_and_is_not_kept()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 3);
        net.RunNetworkKeyDkg();

        // The coordinator's broadcast reaches server 4 with z + 1 in the signature: well formed, not valid.
        const int Victim = 4;
        var group = PrimeOrderGroup.Ed25519;
        net.Interceptor = (from, to, instance, message) =>
        {
            if (from != CoordinatorOfPeriodOne || to != Victim || instance != PeriodCertificateMachine.InstanceOf(1)
                || message.Type != PeriodCertificateWire.CertificateType || message.Recipient is not null
                || !PeriodCertificate.TryDecode(message.Payload, Ciphersuite.Ed25519, out var real))
            {
                return message;
            }

            var forged = new PeriodCertificate(real.Period, real.EncodedTable, real.PublicStateHash, new Signature(real.Suite, real.Signature.R, group.Add(real.Signature.Z, group.One)));
            return message with { Payload = forged.Encode() };
        };
        net.BeginPeriod(1, []);

        Assert.True(net.RunUntil(() => Certified(net, 1, Parameters.Servers), TimeSpan.FromSeconds(40)), "the victim never got the valid certificate");
        var alert = Assert.Single(net.EventsOf<Alert>(Victim), a => a.Type == AlertType.InvalidSignature);
        Assert.Equal(CoordinatorOfPeriodOne, alert.Culprit);
        Assert.Equal(PeriodCertificateMachine.InstanceOf(1), alert.Instance);
        Assert.Equal(CoordinatorOfPeriodOne, alert.Evidence[0]);

        // Not kept: the victim holds the valid one, fetched from a holder when its deadline passed.
        var certificate = net.Controllers[CoordinatorOfPeriodOne].CertificateOf(1)!;
        AssertCertifiesOwnRoot(net, Victim, 1, certificate);
        Assert.Single(net.EventsOf<PeriodCertified>(Victim));
        Assert.Contains(net.Delivered, d => d.From == Victim && d.Message.Type == PeriodCertificateWire.RequestType);

        // A forgery after the fact changes nothing either.
        var forgedLater = new PeriodCertificate(1, certificate.EncodedTable, certificate.PublicStateHash, new Signature(certificate.Suite, certificate.Signature.R, group.Add(certificate.Signature.Z, group.One)));
        net.Inject(3, 1, PeriodCertificateMachine.InstanceOf(1), new OutboundMessage(1, 0, PeriodCertificateWire.Round, PeriodCertificateWire.CertificateType, forgedLater.Encode(), false));
        Assert.Contains(net.EventsOf<Alert>(1), a => a.Type == AlertType.InvalidSignature && a.Culprit == 3);
        Assert.Equal(certificate.Encode(), net.Controllers[1].CertificateOf(1)!.Encode());
    }

    [Fact]
    public void A_recovering_server_does_not_sign_but_receives_the_certificate()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 4);
        net.RunNetworkKeyDkg();
        const int Recovering = 4;
        net.BeginPeriod(1, [Recovering]);

        Assert.True(net.RunUntil(() => Certified(net, 1, Parameters.Servers), TimeSpan.FromSeconds(40)), "not every server holds a certificate");
        Assert.Equal(1UL, net.Controllers[Recovering].CommittedPeriod);
        Assert.DoesNotContain(net.Delivered, d => d.From == Recovering && d.Instance.Protocol == ProtocolKind.Signing);
        Assert.DoesNotContain(net.Controllers[Recovering].Instances, i => i.Protocol == ProtocolKind.Signing);
        AssertCertifiesOwnRoot(net, Recovering, 1, net.Controllers[CoordinatorOfPeriodOne].CertificateOf(1)!);
    }
}
