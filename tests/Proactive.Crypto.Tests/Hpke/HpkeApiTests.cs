using System.Reflection;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Tests.Hpke;

/// <summary>Caller misuse throws Argument*; secrets are redacted and wiped; both sides agree.</summary>
public class HpkeApiTests
{
    private static readonly byte[] Info = "api tests"u8.ToArray();

    public static TheoryData<string> Suites => HpkeSuites.Names;

    [Theory]
    [MemberData(nameof(Suites))]
    public void Sender_and_recipient_agree_on_messages_and_exports(string name)
    {
        var suite = HpkeSuites.ByName(name);
        using var recipient = HpkeBaseMode.GenerateKeyPair(SystemRandomSource.Instance);
        var (enc, sender) = HpkeBaseMode.SetupBaseS(suite, recipient.PublicKey, Info, SystemRandomSource.Instance);
        Assert.True(HpkeBaseMode.TrySetupBaseR(suite, enc, recipient, Info, out var receiver));
        using (sender)
        using (receiver)
        {
            foreach (var length in new[] { 0, 1, 15, 16, 17, 1000 })
            {
                var pt = new byte[length];
                SystemRandomSource.Instance.Fill(pt);
                var ct = new byte[length + HpkeSuite.TagLength];
                sender.Seal("aad"u8, pt, ct);
                var opened = new byte[length];
                Assert.True(receiver.TryOpen("aad"u8, ct, opened));
                Assert.Equal(pt, opened);
            }

            Assert.Equal(sender.Export("ctx"u8, HpkeSuite.MaxExportLength), receiver.Export("ctx"u8, HpkeSuite.MaxExportLength));
            Assert.NotEqual(sender.Export("ctx"u8, 32), receiver.Export("other"u8, 32));
        }
    }

    [Fact]
    public void Same_ikm_derives_the_same_key_pair_and_import_round_trips()
    {
        var ikm = new byte[32];
        ikm[0] = 7;
        using var a = HpkeBaseMode.DeriveKeyPair(ikm);
        using var b = HpkePrivateKey.Derive(ikm);
        Assert.Equal(a.PublicKey, b.PublicKey);

        var secret = new byte[32];
        a.WriteTo(secret);
        Assert.True(HpkePrivateKey.TryImport(secret, out var imported));
        using (imported)
        {
            Assert.Equal(a.PublicKey, imported.PublicKey);
        }

        Assert.False(HpkePrivateKey.TryImport(new byte[31], out _));
        Assert.False(HpkePublicKey.TryDecode(new byte[33], out _));
    }

    [Fact]
    public void Private_key_prints_redacted_and_is_wiped_on_dispose()
    {
        var key = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(5));
        Assert.Equal("<redacted>", key.ToString());

        var field = typeof(HpkePrivateKey).GetField("_secret", BindingFlags.NonPublic | BindingFlags.Instance)!;
        var secret = (byte[])field.GetValue(key)!;
        Assert.Contains(secret, b => b != 0);
        key.Dispose();
        Assert.All(secret, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => key.WriteTo(new byte[32]));
        Assert.False(HpkeBaseMode.TrySetupBaseR(HpkeSuite.X25519Sha256ChaCha20Poly1305, new byte[31], key, Info, out _));
        Assert.Throws<ObjectDisposedException>(() =>
            HpkeBaseMode.TrySetupBaseR(HpkeSuite.X25519Sha256ChaCha20Poly1305, key.PublicKey.Bytes, key, Info, out _));
    }

    [Fact]
    public void Disposed_context_wipes_its_secrets_and_refuses_use()
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(6));
        var (_, sender) = HpkeBaseMode.SetupBaseS(HpkeSuite.X25519Sha256Aes128Gcm, recipient.PublicKey, Info, new DeterministicRandomSource(7));
        var exporter = (byte[])typeof(HpkeContext).GetField("_exporterSecret", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(sender)!;
        var nonce = (byte[])typeof(HpkeContext).GetField("_baseNonce", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(sender)!;
        sender.Dispose();
        Assert.All(exporter, b => Assert.Equal(0, b));
        Assert.All(nonce, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => sender.Seal([], []));
        Assert.Throws<ObjectDisposedException>(() => sender.Export([], 32));
    }

    [Fact]
    public void Caller_misuse_throws_argument_exceptions()
    {
        var suite = HpkeSuite.X25519Sha256ChaCha20Poly1305;
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(8));
        Assert.Throws<ArgumentException>(() => HpkeBaseMode.DeriveKeyPair(new byte[31]));
        Assert.Throws<ArgumentNullException>(() => HpkeBaseMode.GenerateKeyPair(null!));
        Assert.Throws<ArgumentNullException>(() => HpkeBaseMode.SetupBaseS(null!, recipient.PublicKey, Info, SystemRandomSource.Instance));
        Assert.Throws<ArgumentNullException>(() => HpkeBaseMode.SetupBaseS(suite, null!, Info, SystemRandomSource.Instance));
        Assert.Throws<ArgumentNullException>(() => HpkeBaseMode.SetupBaseS(suite, recipient.PublicKey, Info, null!));
        Assert.Throws<ArgumentNullException>(() => HpkeBaseMode.TrySetupBaseR(suite, new byte[32], null!, Info, out _));
        Assert.Throws<ArgumentException>(() => HpkePublicKey.Decode(new byte[31]));

        var (enc, sender) = HpkeBaseMode.SetupBaseS(suite, recipient.PublicKey, Info, SystemRandomSource.Instance);
        Assert.True(HpkeBaseMode.TrySetupBaseR(suite, enc, recipient, Info, out var receiver));
        using (sender)
        using (receiver)
        {
            Assert.Throws<ArgumentException>(() => sender.Seal([], new byte[4], new byte[4 + 15]));
            Assert.Throws<ArgumentException>(() => sender.Seal([], new byte[4], new byte[4 + 17]));
            Assert.Equal(0UL, sender.SequenceNumber);

            var ct = sender.Seal([], new byte[4]);
            Assert.Throws<ArgumentException>(() => receiver.TryOpen([], ct, new byte[3]));
            Assert.Throws<ArgumentException>(() => receiver.TryOpen([], ct, new byte[5]));
            Assert.Equal(0UL, receiver.SequenceNumber);

            Assert.Throws<ArgumentOutOfRangeException>(() => sender.Export([], 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => sender.Export([], HpkeSuite.MaxExportLength + 1));
            Assert.Throws<ArgumentException>(() => receiver.Export([], Span<byte>.Empty));
        }
    }

    [Fact]
    public void Suite_lookup_knows_exactly_the_implemented_suites()
    {
        Assert.True(HpkeSuite.TryGet(0x0020, 0x0001, 0x0003, out var chacha));
        Assert.Same(HpkeSuite.X25519Sha256ChaCha20Poly1305, chacha);
        Assert.True(HpkeSuite.TryGet(0x0020, 0x0001, 0x0001, out var aes));
        Assert.Same(HpkeSuite.X25519Sha256Aes128Gcm, aes);
        Assert.False(HpkeSuite.TryGet(0x0020, 0x0001, 0x0002, out _)); // AES-256-GCM: not implemented
        Assert.False(HpkeSuite.TryGet(0x0010, 0x0001, 0x0003, out _)); // P-256 KEM
        Assert.False(HpkeSuite.TryGet(0x0020, 0x0002, 0x0003, out _)); // HKDF-SHA384
        Assert.Equal(2, HpkeSuite.All.Count);
    }
}
