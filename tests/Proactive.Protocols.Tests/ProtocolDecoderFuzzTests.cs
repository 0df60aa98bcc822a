using System.Reflection;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Application;
using Proactive.Protocols.Bootstrap;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Recovery;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Signing;
using Proactive.Protocols.Tests.Controller;
using Proactive.Protocols.Tests.Envelopes;

namespace Proactive.Protocols.Tests;

/// <summary>
/// Feeds mutated real encodings to every decoder of the protocols assembly. A decoder may refuse, but
/// must never throw, and whatever it accepts must re-encode to exactly the input (one encoding per
/// value). The valid encodings come from a controller network run (DKG, a refresh with share recovery,
/// the KeyTable, agreement, the period certificate: payloads and persisted state) plus the fault-path
/// messages a clean run does not send.
/// </summary>
/// <remarks>
/// A reflection test fails for any public static TryDecode*/TryRead* method of the assembly that no
/// entry of <see cref="Decoders"/> names and that is not in <see cref="FuzzedElsewhere"/>, so a new
/// decoder cannot escape fuzzing.
/// </remarks>
public sealed class ProtocolDecoderFuzzTests
{
    private const int MutationsPerSample = 150;

    private static readonly ClusterParameters Parameters = ClusterParameters.Create(4, 1, 1);

    private static readonly PrimeOrderGroup Group = PrimeOrderGroup.Ed25519;

    private static readonly Ciphersuite Suite = Ciphersuite.Ed25519;

    /// <summary>Decoders fuzzed by a dedicated test (they need sealed envelopes): method, and the test that fuzzes it.</summary>
    private static readonly Dictionary<string, (Type Test, string Method)> FuzzedElsewhere = new()
    {
        ["Envelope.TryDecode"] = (typeof(EnvelopeSnapshotAndFuzzTests), nameof(EnvelopeSnapshotAndFuzzTests.Random_mutations_of_valid_envelopes_are_refused_without_exceptions)),
        ["Envelope.TryRead"] = (typeof(EnvelopeSnapshotAndFuzzTests), nameof(EnvelopeSnapshotAndFuzzTests.Random_mutations_of_valid_envelopes_are_refused_without_exceptions)),
        ["EquivocationProof.TryDecode"] = (typeof(EquivocationProofTests), nameof(EquivocationProofTests.Truncated_proofs_and_mutated_proofs_are_refused_without_exceptions)),
    };

    /// <summary>
    /// Every decoder: a name, the public static methods it exercises (Type.Method, for the coverage test),
    /// and a delegate that decodes, asserts that what it accepts re-encodes to the input, and says whether it accepted.
    /// </summary>
    private static readonly ProtocolDecoder[] Decoders =
    [
        new("PeriodPublicKeys", ["PeriodPublicKeys.TryDecode", "PeriodPublicKeys.TryRead"], input =>
            Canonical(input, PeriodPublicKeys.TryDecode(input, out var v, out _) ? v.Encode() : null)
            | Read(input, (ref CanonicalReader r) => PeriodPublicKeys.TryRead(ref r, out var w) ? w.Encode() : null)),
        new("SignedRequest", ["SignedRequest.TryDecode", "SignedRequest.TryRead"], input =>
            Canonical(input, SignedRequest.TryDecode(input, out var v) ? v.Encode() : null)
            | Read(input, (ref CanonicalReader r) => SignedRequest.TryRead(ref r, out var w) ? w.Encode() : null)),
        new("LedgerBatch", ["LedgerBatch.TryDecode"], input => Canonical(input, LedgerBatch.TryDecode(input, out var v) ? v.Encode() : null)),
        new("ApplicationRecord", ["ApplicationRecord.TryDecode"], input => Canonical(input, ApplicationRecord.TryDecode(input, out var v) ? v.Encode() : null)),
        new("DataRecord", ["DataRecord.TryDecode"], input => Canonical(input, DataRecord.TryDecode(input, out var v) ? v.Encode() : null)),
        new("ApplicationCertificate", ["ApplicationCertificate.TryDecode"], input => Canonical(input, ApplicationCertificate.TryDecode(input, out var v) ? v.Encode() : null)),
        new("KeyRecord", ["KeyRecord.TryDecode"], input => Canonical(input, KeyRecord.TryDecode(input, out var v) ? v.Encode() : null)),
        new("NonceUseRecord", ["NonceUseRecord.TryDecode"], input => Canonical(input, NonceUseRecord.TryDecode(input, out var v) ? v.Encode() : null)),
        new("NonceCommitmentBatch", ["NonceCommitmentBatch.TryDecode"], input => Canonical(input, NonceCommitmentBatch.TryDecode(Suite, input, out var v, out _) ? v.Encode(Suite) : null)),
        new("SigningRequest", ["SigningRequest.TryDecode"], input => Canonical(input, SigningRequest.TryDecode(Suite, Parameters.ServerCount, input, out var v, out _) ? v.Encode() : null)),
        new("SigningResponse", ["SigningResponse.TryDecode"], input => Canonical(input, SigningResponse.TryDecode(Suite, input, out var v, out _) ? v.Encode() : null)),
        new("SigningRefusal", ["SigningRefusal.TryDecode"], input => Canonical(input, SigningRefusal.TryDecode(Suite, input, out var v) ? v.Encode(Suite) : null)),
        new("InvalidSignatureShareEvidence", ["InvalidSignatureShareEvidence.TryDecode"], input =>
            Canonical(input, InvalidSignatureShareEvidence.TryDecode(input, out var attempt, out var request, out var signed) ? InvalidSignatureShareEvidence.Encode(attempt, request, signed) : null)),
        new("RecoveryBlindingCommitments", ["RecoveryBlindingCommitments.TryDecode"], input =>
            Canonical(input, RecoveryBlindingCommitments.TryDecode(input, Group, out var v)
                ? RecoveryBlindingCommitments.Encode(RecoveryBlindingCommitments.EncodeBinding(Group, v.Recovering, v.RecipientHashes), v.CombinedCommitment)
                : null)),
        new("DkgQualifiedSet", ["DkgQualifiedSet.TryDecode"], input => Canonical(input, DkgQualifiedSet.TryDecode(input, Group, out var v, out _) ? v.Encode() : null)),
        new("DkgDealing", ["DkgDealing.TryDecode"], input => Canonical(input, DkgDealing.TryDecode(input, Group, out var v, out _) ? v.Encode() : null)),
        new("DkgShare", ["DkgShare.TryDecode"], input => Canonical(input, DkgShare.TryDecode(input, Group, out var v, out _) ? v.Encode() : null)),
        new("DkgComplaint", ["DkgComplaint.TryDecode"], input => Canonical(input, DkgComplaint.TryDecode(input, Group, out var v, out _) ? v.Encode() : null)),
        new("DkgReveal", ["DkgReveal.TryDecode"], input => Canonical(input, DkgReveal.TryDecode(input, Group, out var v, out _) ? v.Encode() : null)),
        new("VoteEquivocationProof", ["VoteEquivocationProof.TryDecode", "VoteEquivocationProof.TryRead"], input => Canonical(input, VoteEquivocationProof.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("SignedVote", ["SignedVote.TryDecode", "SignedVote.TryRead", "SignedVote.TryReadBody"], input => Canonical(input, SignedVote.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("AgreementPersistedState", ["AgreementPersistedState.TryDecode", "AgreementPersistedState.TryRead"], input => Canonical(input, AgreementPersistedState.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("Agreement Certificate", ["Certificate.TryDecode", "Certificate.TryRead"], input => Canonical(input, Certificate.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("ProposalMessage", ["ProposalMessage.TryDecode", "ProposalMessage.TryRead"], input => Canonical(input, ProposalMessage.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("VoteMessage", ["VoteMessage.TryDecode", "VoteMessage.TryRead"], input => Canonical(input, VoteMessage.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("PeriodCertificate", ["PeriodCertificate.TryDecode", "PeriodCertificate.TryRead"], input => Canonical(input, PeriodCertificate.TryDecode(input, Suite, out var v, out _) ? v.Encode() : null)),
        new("KeyTableEntry", ["KeyTableEntry.TryDecode", "KeyTableEntry.TryRead"], input =>
            Canonical(input, KeyTableEntry.TryDecode(input, out var v) ? v.Encode() : null)
            | Read(input, (ref CanonicalReader r) => KeyTableEntry.TryRead(ref r, out var w) ? w.Encode() : null)),
        new("SignedKeyTableEntry", ["SignedKeyTableEntry.TryDecode", "SignedKeyTableEntry.TryRead"], input => Canonical(input, SignedKeyTableEntry.TryDecode(input, out var v, out _) ? v.Encode() : null)),
        new("KeyTableDocument", ["KeyTableDocument.TryDecode"], input => Canonical(input, KeyTableDocument.TryDecode(input, Parameters.ServerCount, out var v, out _) ? v.Encode() : null)),
        new("RefreshDealingRequest", ["RefreshDealingRequest.TryDecode"], input => Canonical(input, RefreshDealingRequest.TryDecode(input, Group, out var dealer) ? RefreshDealingRequest.Encode(Group, dealer) : null)),
        new("RefreshRelayedCommitments", ["RefreshRelayedCommitments.TryDecode"], input =>
            Canonical(input, RefreshRelayedCommitments.TryDecode(input, Group, out var dealer, out var message) ? RefreshRelayedCommitments.Encode(Group, dealer, message) : null)),
        new("SubShareVectorCodec", ["SubShareVectorCodec.TryDecode"], input =>
            Canonical(input, SubShareVectorCodec.TryDecode(input, Group, out var recipient, out var values) ? SubShareVectorCodec.Encode(Group, recipient, values) : null)),
        new("RefreshDealingCommitments", ["RefreshDealingCommitments.TryDecode"], input =>
            Canonical(input, RefreshDealingCommitments.TryDecode(input, Group, out var v) ? RefreshDealingCommitments.Encode(Group, v.SigningKeyCommitments, v.RecipientHashes, v.CombinedCommitment) : null)),
        new("RefreshComplaint", ["RefreshComplaint.TryDecode"], input =>
            Canonical(input, RefreshComplaint.TryDecode(input, Group, out var complaint) ? complaint.Encode() : null)),
        new("RefreshReveal", ["RefreshReveal.TryDecode"], input =>
            Canonical(input, RefreshReveal.TryDecode(input, Group, out var complainer, out var message) ? RefreshReveal.Encode(Group, complainer, message) : null)),
        new("QualifiedSetCodec", ["QualifiedSetCodec.TryDecode"], input =>
            Canonical(input, QualifiedSetCodec.TryDecode(input, Group, Parameters.ServerCount, out var dealers) ? QualifiedSetCodec.Encode(Group, dealers) : null)),
        new("ShareVectorDigest", ["ShareVectorDigest.TryDecode"], input => Canonical(input, ShareVectorDigest.TryDecode(input, out var v) ? v.Encode() : null)),
        new("ShareVector", ["ShareVector.TryDecode"], input =>
        {
            if (!ShareVector.TryDecode(input, Group, out var v))
            {
                return false;
            }

            using (v)
            {
                return Canonical(input, v.Encode());
            }
        }),
        new("RefreshPublicState", ["RefreshPublicState.TryDecode"], input => Canonical(input, RefreshPublicState.TryDecode(input, Group, out var v) ? v.Encode() : null)),
        new("InvariantInformation", ["InvariantInformation.TryDecode", "InvariantInformation.TryRead"], input =>
            Canonical(input, InvariantInformation.TryDecode(input, null, out var v) ? v.Encode() : null)
            | Read(input, (ref CanonicalReader r) => InvariantInformation.TryRead(ref r, null, out var w) ? w.Encode() : null)),
        new("InvariantCertificate", ["InvariantCertificate.TryDecode"], input =>
            Canonical(input, InvariantCertificate.TryDecode(input, null, out var v) ? v.Encode() : null)),
        new("OpenFrame", ["OpenFrame.TryDecode"], input =>
            Canonical(input, OpenFrame.TryDecode(input, Group, FuzzNetwork, 1, out var header, out var message, out _)
                ? OpenFrame.Encode(Group.Id, FuzzNetwork, header.Sender, header.Instance, new OutboundMessage(header.Recipient == 0 ? null : header.Recipient, header.Attempt, header.Round, header.Type, message.Payload.ToArray(), false))
                : null)),
    ];

    private static readonly NetworkId FuzzNetwork = NetworkId.FromBytes(new byte[NetworkId.Length]);

    private static readonly Lazy<List<byte[]>> HarvestedSamples = new(Harvest);

    private delegate byte[]? ReadFrom(ref CanonicalReader reader);

    public static TheoryData<string> DecoderNames => new(Decoders.Select(d => d.Name));

    [Fact]
    public void Every_public_static_decoder_of_the_protocols_assembly_is_fuzzed()
    {
        var decoders = typeof(ServerController).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.Name.StartsWith("TryDecode", StringComparison.Ordinal) || m.Name.StartsWith("TryRead", StringComparison.Ordinal))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .ToHashSet();
        var listed = Decoders.SelectMany(d => d.Covers).ToHashSet();
        var unfuzzed = decoders.Where(d => !listed.Contains(d) && !FuzzedElsewhere.ContainsKey(d)).Order().ToList();
        Assert.True(unfuzzed.Count == 0, "fuzz these decoders (an entry in Decoders): " + string.Join(", ", unfuzzed));

        // Only methods that exist, and tests that exist, are named: a rename cannot leave a stale entry.
        Assert.All(listed.Concat(FuzzedElsewhere.Keys), name => Assert.Contains(name, decoders));
        Assert.All(FuzzedElsewhere.Values, test => Assert.NotNull(test.Test.GetMethod(test.Method)));
    }

    [Theory]
    [MemberData(nameof(DecoderNames))]
    public void Every_decoder_accepts_a_real_encoding_and_survives_its_mutations(string name)
    {
        var decoder = Decoders.Single(d => d.Name == name);
        var samples = HarvestedSamples.Value;
        var own = samples.Where(decoder.Decode).ToList();
        Assert.True(own.Count > 0, $"{name}: no valid sample to mutate");

        var random = new Random(20261120 ^ name.Length);
        foreach (var sample in own.Take(4))
        {
            for (var i = 0; i < MutationsPerSample; i++)
            {
                _ = decoder.Decode(Mutate(sample, random));
            }
        }

        // Every other type's encodings and random bytes too: refused or canonical, never an exception.
        foreach (var sample in samples)
        {
            _ = decoder.Decode(sample);
        }

        for (var length = 0; length < 64; length++)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            _ = decoder.Decode(bytes);
        }
    }

    private static byte[] Mutate(byte[] sample, Random random)
    {
        var copy = (byte[])sample.Clone();
        switch (random.Next(4))
        {
            case 0:
                for (var flips = random.Next(1, 4); flips > 0 && copy.Length > 0; flips--)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                return copy;
            case 1:
                return copy[..random.Next(copy.Length + 1)];
            case 2:
                return [.. copy, (byte)random.Next(256)];
            default:
                if (copy.Length > 0)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }

                return copy;
        }
    }

    /// <summary>Whether the decoder accepted (<paramref name="reencoded"/> not null), asserting that it re-encodes to the input.</summary>
    private static bool Canonical(byte[] input, byte[]? reencoded)
    {
        if (reencoded is null)
        {
            return false;
        }

        Assert.True(input.AsSpan().SequenceEqual(reencoded), $"accepted a non-canonical encoding: {Convert.ToHexString(input)}");
        return true;
    }

    /// <summary>A TryRead over the whole input: accepted when it reads the value and nothing is left.</summary>
    private static bool Read(byte[] input, ReadFrom read)
    {
        var reader = new CanonicalReader(input);
        var value = read(ref reader);
        return value is not null && reader.Remaining == 0 && Canonical(input, value);
    }

    /// <summary>
    /// Real encodings: every payload and persisted value of a controller network run (n = 4, a DKG, two
    /// data secrets, period 1 with server 4 recovering, the certificate), and the fault-path messages a
    /// clean run does not send.
    /// </summary>
    private static InvariantCertificate InvariantSample()
    {
        var random = new Crypto.Random.DeterministicRandomSource(77);
        using var dealt = TrustedDealer.Generate(Suite, null, 2, 4, random);
        var network = NetworkId.FromBytes(new byte[NetworkId.Length]);
        var statements = Parameters.Servers.Select(i =>
        {
            using var start = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)i, Ed25519PrivateKey.SeedLength).ToArray());
            return InvariantInformation.SignStatement(start, network, i, dealt.PublicKeyPackage.GroupPublicKey, "{}"u8);
        }).ToList();
        var information = InvariantInformation.Create(network, dealt.PublicKeyPackage.GroupPublicKey, "{}"u8, statements);
        var signers = dealt.KeyPackages.Take(2).ToArray();
        var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToArray();
        var package = SigningPackage.Create(Suite, nonces.Select(n => n.Commitments), InvariantCertificate.SigningMessage(information, new byte[32]));
        var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value).ToArray();
        return new InvariantCertificate(information, new byte[32], Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage).Value);
    }

    private static List<byte[]> Harvest()
    {
        var samples = new List<byte[]>();
        using (var net = new ControllerTestNetwork(Parameters, seed: 9))
        {
            net.RunNetworkKeyDkg(secrets: 2);
            net.BeginPeriod(1, [4]);
            net.RunUntil(() => Parameters.Servers.All(s => net.Controllers[s].CertificateOf(1) is not null), TimeSpan.FromSeconds(40));
            samples.AddRange(net.Delivered.GroupBy(d => (d.Instance.Protocol, d.Instance.Sequence == 0, d.Message.Round, d.Message.Type)).SelectMany(g => g.Take(3)).Select(d => d.Message.Payload));
            samples.AddRange(net.Stores.Values.SelectMany(store => store).GroupBy(e => e.Key.Split('/')[0] + "/" + e.Key.Split('/').Last()).SelectMany(g => g.Take(2)).Select(e => e.Value));
            foreach (var decided in net.EventsOf<AgreementDecided>(1))
            {
                samples.Add(decided.Value);
                samples.Add(decided.Certificate.Encode());
            }

            var table = net.EventsOf<KeyTableDecided>(1).First().EncodedTable;
            samples.Add(table);
            Assert.True(KeyTableDocument.TryDecode(table, Parameters.ServerCount, out var document));
            samples.Add(document.Entries[0].Encode());
            samples.Add(document.Entries[0].Entry.Encode());
            samples.Add(document.Entries[0].Entry.Keys.Encode());
            var vote = net.Delivered.Select(d => d.Message).First(m => m.Type == (byte)AgreementMessageType.Prevote && VoteMessage.TryDecode(m.Payload, out _, out _));
            Assert.True(VoteMessage.TryDecode(vote.Payload, out var voteMessage, out _));
            samples.Add(voteMessage.Vote.Encode());
        }

        samples.Add(InvariantSample().Encode());
        samples.Add(InvariantSample().Information.Encode());
        samples.Add(OpenFrame.Encode(Group.Id, FuzzNetwork, 2, VcertRecoverMachine.InstanceOf(3), new OutboundMessage(null, 0, VcertRecoverWire.Round, VcertRecoverWire.PushType, InvariantSample().Encode(), false)));
        samples.Add(OpenFrame.Encode(Group.Id, FuzzNetwork, 3, new InstanceId(ProtocolKind.KeyTable, 2, 0), new OutboundMessage(1, 4, KeyTableWire.EntryRound, KeyTableWire.EntryType, [1, 2, 3], false)));

        // The applications' ledger.
        var request = new SignedRequest("app_000102030405060708090a0b0c0d0e0f_0", "POST", "/v1/data", 1_790_000_000_000, new byte[SignedRequest.NonceLength], "{\"id\":\"x\"}"u8, new byte[64]);
        samples.Add(request.Encode());
        samples.Add(new LedgerBatch(3, 7, true, [request, request]).Encode());
        var application = new ApplicationRecord(new byte[ApplicationRecord.IdLength], "fuzz", ApplicationKind.DistributedPassword, new byte[32], ApplicationQuota.Default, 2);
        application.Instances[1] = new byte[32];
        samples.Add(application.Encode());
        samples.Add(new DataRecord("entry", DataType.PublicReadWrite, [1, 2, 3], 2, 0, 4).Encode());
        samples.Add(new DataRecord("secret", DataType.SecretDistributedReader, [1, 2, 3], 1, 5, 4, new byte[DataRecord.DealingLength], 9, released: true).Encode());
        samples.Add(new KeyRecord("k", 3, 2).Encode());
        using (var authority = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)4, Ed25519PrivateKey.SeedLength).ToArray()))
        {
            samples.Add(ApplicationCertificate.Issue(authority, FuzzNetwork, "fuzz", 2, 2, authority.PublicKey.Bytes, 1, 2, new byte[ApplicationCertificate.SerialLength]).Encode());
        }

        // Fault paths.
        var digest = SHA256.HashData("a package"u8);
        samples.Add(RefreshDealingRequest.Encode(Group, 3));
        using (var complainerKey = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)3, Ed25519PrivateKey.SeedLength).ToArray()))
        {
            samples.Add(RefreshComplaint.Sign(Group, complainerKey, new InstanceId(ProtocolKind.Refresh, 1, 0), "context"u8, 3, 2, RefreshComplaintReason.Invalid).Encode());
            samples.Add(DkgComplaint.Sign(Group, complainerKey, new InstanceId(ProtocolKind.Dkg, 0, 0), "context"u8, 3, 2, DkgComplaintReason.Invalid).Encode());
        }

        samples.Add(RefreshReveal.Encode(Group, 4, SubShareVectorCodec.Encode(Group, 4, [Group.FromUInt64(7), Group.FromUInt64(8)])));
        samples.Add(new DkgReveal(Group, 2, 1, Group.FromUInt64(9)).Encode());
        samples.Add(new SigningRefusal(digest, SigningRefusalReason.MessageNotAcceptable).Encode(Suite));
        samples.Add(InvalidSignatureShareEvidence.Encode(2, [1, 2, 3], [4, 5]));
        using var key = Ed25519PrivateKey.FromSeed(new byte[Ed25519PrivateKey.SeedLength]);
        var context = "a vote context"u8.ToArray();
        var first = SignedVote.Create(key, 3, context, VoteStep.Prevote, 0, digest, isNil: false);
        var second = SignedVote.Create(key, 3, context, VoteStep.Prevote, 0, [], isNil: true);
        samples.Add(new VoteEquivocationProof(first, second).Encode());
        return samples;
    }

    private sealed record ProtocolDecoder(string Name, string[] Covers, Func<byte[], bool> Decode);
}
