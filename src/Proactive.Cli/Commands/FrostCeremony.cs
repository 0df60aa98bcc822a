using System.Security.Cryptography;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;

namespace Proactive.Cli.Commands;

/// <summary>What the ceremony produced; byte arrays are public values only.</summary>
internal sealed record FrostCeremonyResult(
    string Suite,
    int Nodes,
    int Threshold,
    byte[] GroupPublicKey,
    byte[] Message,
    byte[] Signature,
    IReadOnlyList<int> Signers,
    bool Verified,
    bool? StandardEd25519Verified)
{
    /// <summary>The JSON shape documented for <c>frost-demo --json</c>.</summary>
    internal object ToJson() => new
    {
        suite = Suite,
        groupPublicKey = Convert.ToHexStringLower(GroupPublicKey),
        message = Convert.ToHexStringLower(Message),
        signature = Convert.ToHexStringLower(Signature),
        signers = Signers,
        verified = Verified,
    };
}

/// <summary>Trusted-dealer key generation and one FROST signing, all in this process.</summary>
internal static class FrostCeremony
{
    internal static FrostCeremonyResult Run(Ciphersuite suite, int nodes, int threshold, byte[] message, IRandomSource random)
    {
        var minSigners = threshold + 1;
        using var dealt = TrustedDealer.Generate(suite, groupSecret: null, minSigners, nodes, random);
        var signerIndices = ChooseSigners(nodes, minSigners, random);
        var signers = signerIndices
            .Select(i => dealt.KeyPackages.Single(k => k.Identifier == Identifier.FromInt(suite, i)))
            .ToList();

        // Round one: each signer commits to fresh nonces; the coordinator collects the commitments.
        var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToList();
        try
        {
            var package = SigningPackage.Create(suite, nonces.Select(n => n.Commitments), message);

            // Round two: each signer signs with its nonces (which that consumes) and its share.
            var shares = new List<SignatureShare>(signers.Count);
            for (var i = 0; i < signers.Count; i++)
            {
                var share = Round2.Sign(package, nonces[i], signers[i]);
                if (!share.IsSuccess)
                {
                    throw new CryptographicException($"Signer {signerIndices[i]} could not sign: {share.Error}.");
                }

                shares.Add(share.Value);
            }

            var aggregated = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage);
            if (!aggregated.IsSuccess)
            {
                throw new CryptographicException($"Aggregation failed: {aggregated.Error}.");
            }

            var signature = aggregated.Value;
            var groupKey = dealt.PublicKeyPackage.GroupPublicKey;
            var encodedSignature = signature.Encode();
            var verified = groupKey.Verify(message, signature);
            bool? standard = null;
            if (suite == Ciphersuite.Ed25519)
            {
                // The same bytes through an ordinary RFC 8032 verifier (libsodium), as a third party would.
                standard = Ed25519PublicKey.TryDecode(groupKey.Encode(), out var pk) && pk!.Verify(message, encodedSignature);
                verified &= standard.Value;
            }

            return new FrostCeremonyResult(
                SuiteNames.Name(suite), nodes, threshold, groupKey.Encode(), message, encodedSignature,
                signerIndices, verified, standard);
        }
        finally
        {
            foreach (var n in nonces)
            {
                n.Dispose();
            }
        }
    }

    /// <summary>A uniformly random set of <paramref name="count"/> indices from 1..<paramref name="nodes"/>, sorted.</summary>
    private static List<int> ChooseSigners(int nodes, int count, IRandomSource random)
    {
        var indices = Enumerable.Range(1, nodes).ToArray();
        Span<byte> buffer = stackalloc byte[4];
        for (var i = indices.Length - 1; i > 0; i--)
        {
            random.Fill(buffer);
            var j = (int)(BitConverter.ToUInt32(buffer) % (uint)(i + 1)); // bias < 2^-24 for n <= 255: a demo choice
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }

        return [.. indices.Take(count).Order()];
    }
}
