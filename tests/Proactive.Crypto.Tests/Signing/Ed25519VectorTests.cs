using Proactive.Crypto.Signing;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Signing;

/// <summary>RFC 8032 section 7.1 and Wycheproof vectors from <c>shared/vectors</c>.</summary>
public class Ed25519VectorTests
{
    [Fact]
    public void Rfc8032_seeds_give_the_published_public_keys_and_deterministic_signatures_that_verify()
    {
        using var document = TestVectors.LoadJson("ed25519", "rfc8032-7.1.json");
        var vectors = document.RootElement.GetProperty("vectors").EnumerateArray().ToList();
        Assert.Equal(5, vectors.Count);
        foreach (var vector in vectors)
        {
            var name = vector.GetProperty("name").GetString();
            var message = Hex(vector, "message");
            Assert.Equal(vector.GetProperty("message_len").GetInt32(), message.Length);
            var signature = Hex(vector, "signature");

            using var key = Ed25519PrivateKey.FromSeed(Hex(vector, "secret_key"));
            Assert.True(Hex(vector, "public_key").AsSpan().SequenceEqual(key.PublicKey.Bytes), name);
            Assert.Equal(signature, key.Sign(message));
            Assert.True(key.PublicKey.Verify(message, signature), name);

            var tampered = (byte[])signature.Clone();
            tampered[0] ^= 0x01;
            Assert.False(key.PublicKey.Verify(message, tampered), name);
        }
    }

    /// <summary>
    /// Every Wycheproof case: "valid" verifies, "invalid" does not. The file has no "acceptable"
    /// cases (behaviour the standard leaves open); if a new version adds some, this test fails so
    /// that someone decides on purpose instead of inheriting libsodium's choice silently.
    /// </summary>
    [Fact]
    public void Wycheproof_valid_signatures_verify_and_invalid_ones_are_rejected()
    {
        using var document = TestVectors.LoadJson("wycheproof", "ed25519_test.json");
        var root = document.RootElement;
        var failures = new List<string>();
        int valid = 0, invalid = 0, acceptable = 0;
        foreach (var group in root.GetProperty("testGroups").EnumerateArray())
        {
            Assert.Equal("EddsaVerify", group.GetProperty("type").GetString());
            var publicKeyBytes = Hex(group.GetProperty("publicKey"), "pk");
            Assert.True(Ed25519PublicKey.TryDecode(publicKeyBytes, out var publicKey));
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                var id = test.GetProperty("tcId").GetInt32();
                var result = test.GetProperty("result").GetString();
                var verified = publicKey.Verify(Hex(test, "msg"), Hex(test, "sig"));
                switch (result)
                {
                    case "valid":
                        valid++;
                        if (!verified)
                        {
                            failures.Add($"tcId {id} (valid) rejected: {test.GetProperty("comment").GetString()}");
                        }

                        break;
                    case "invalid":
                        invalid++;
                        if (verified)
                        {
                            failures.Add($"tcId {id} (invalid) accepted: {test.GetProperty("comment").GetString()}");
                        }

                        break;
                    default:
                        acceptable++;
                        failures.Add($"tcId {id} has result '{result}': decide and document the policy");
                        break;
                }
            }
        }

        Assert.Empty(failures);
        Assert.Equal(root.GetProperty("numberOfTests").GetInt32(), valid + invalid + acceptable);
        Assert.Equal(151, valid + invalid);
        Assert.Equal(0, acceptable);
    }
}
