using System.Text.Json;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Hpke;

/// <summary>RFC 9180 Appendix A vectors from <c>shared/vectors/hpke</c> (see its README).</summary>
public class HpkeVectorTests
{
    public static TheoryData<string> Files => new()
    {
        "rfc9180-x25519-sha256-chacha20poly1305.json",
        "rfc9180-x25519-sha256-aes128gcm.json",
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Base_mode_entries_reproduce_keys_secrets_all_encryptions_and_exports(string file)
    {
        var entries = Load(file).Where(e => e.GetProperty("mode").GetInt32() == 0).ToList();
        Assert.Single(entries);
        foreach (var entry in entries)
        {
            CheckBaseModeEntry(entry);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Only_psk_auth_and_auth_psk_entries_are_skipped(string file)
    {
        var entries = Load(file);
        var skippedModes = entries.Select(e => e.GetProperty("mode").GetInt32()).Where(m => m != 0).Order().ToArray();

        // Base mode is all we implement; modes 1 (psk), 2 (auth) and 3 (auth_psk) are skipped on purpose.
        Assert.Equal([1, 2, 3], skippedModes);
        Assert.Equal(4, entries.Count);
    }

    private static void CheckBaseModeEntry(JsonElement entry)
    {
        Assert.True(HpkeSuite.TryGet(
            (ushort)entry.GetProperty("kem_id").GetInt32(),
            (ushort)entry.GetProperty("kdf_id").GetInt32(),
            (ushort)entry.GetProperty("aead_id").GetInt32(),
            out var suite));

        var info = Hex(entry, "info");
        var ikmE = Hex(entry, "ikmE");

        // DeriveKeyPair (RFC 9180 section 7.1.3) for both key pairs.
        using var recipient = HpkeBaseMode.DeriveKeyPair(Hex(entry, "ikmR"));
        AssertPrivateKey(Hex(entry, "skRm"), recipient);
        Assert.Equal(Hex(entry, "pkRm"), recipient.PublicKey.ToArray());
        using (var ephemeral = HpkeBaseMode.DeriveKeyPair(ikmE))
        {
            AssertPrivateKey(Hex(entry, "skEm"), ephemeral);
            Assert.Equal(Hex(entry, "pkEm"), ephemeral.PublicKey.ToArray());
        }

        // Encap / Decap: enc and shared_secret.
        var enc = new byte[HpkeSuite.EncapsulatedKeyLength];
        var sharedSecret = new byte[32];
        Assert.True(DhkemX25519.TryEncap(recipient.PublicKey.Bytes, new FixedRandomSource(ikmE), enc, sharedSecret));
        Assert.Equal(Hex(entry, "enc"), enc);
        Assert.Equal(Hex(entry, "shared_secret"), sharedSecret);
        var decapsulated = new byte[32];
        Assert.True(DhkemX25519.TryDecap(enc, recipient, decapsulated));
        Assert.Equal(sharedSecret, decapsulated);

        // Key schedule: key, base_nonce, exporter_secret.
        var key = new byte[suite.KeyLength];
        var baseNonce = new byte[HpkeSuite.NonceLength];
        var exporterSecret = new byte[32];
        HpkeContext.KeyScheduleBase(suite, sharedSecret, info, key, baseNonce, exporterSecret);
        Assert.Equal(Hex(entry, "key"), key);
        Assert.Equal(Hex(entry, "base_nonce"), baseNonce);
        Assert.Equal(Hex(entry, "exporter_secret"), exporterSecret);

        // The public API, driven by the vector's ikmE, on one sender and one recipient context.
        var random = new FixedRandomSource(ikmE);
        var (publicEnc, sender) = HpkeBaseMode.SetupBaseS(suite, recipient.PublicKey, info, random);
        Assert.Equal(0, random.Remaining);
        Assert.Equal(Hex(entry, "enc"), publicEnc);
        Assert.True(HpkeBaseMode.TrySetupBaseR(suite, publicEnc, recipient, info, out var receiver));
        using (sender)
        using (receiver)
        {
            var encryptions = entry.GetProperty("encryptions").EnumerateArray().ToList();
            Assert.Equal(257, encryptions.Count);
            for (var i = 0; i < encryptions.Count; i++)
            {
                var aad = Hex(encryptions[i], "aad");
                var pt = Hex(encryptions[i], "pt");
                var ct = Hex(encryptions[i], "ct");
                Assert.Equal((ulong)i, sender.SequenceNumber);
                Assert.Equal(ct, sender.Seal(aad, pt));
                Assert.True(receiver.TryOpen(aad, ct, out var opened), $"encryption {i} did not open");
                Assert.Equal(pt, opened);
            }

            Assert.Equal(257UL, sender.SequenceNumber);
            Assert.Equal(257UL, receiver.SequenceNumber);

            var exports = entry.GetProperty("exports").EnumerateArray().ToList();
            Assert.Equal(3, exports.Count);
            foreach (var export in exports)
            {
                var context = Hex(export, "exporter_context");
                var length = export.GetProperty("L").GetInt32();
                var expected = Hex(export, "exported_value");
                Assert.Equal(expected, sender.Export(context, length));
                Assert.Equal(expected, receiver.Export(context, length));
            }
        }
    }

    private static void AssertPrivateKey(byte[] expected, HpkePrivateKey key)
    {
        var actual = new byte[HpkeSuite.PrivateKeyLength];
        key.WriteTo(actual);
        Assert.Equal(expected, actual);
    }

    private static List<JsonElement> Load(string file)
    {
        using var document = LoadJson("hpke", file);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
