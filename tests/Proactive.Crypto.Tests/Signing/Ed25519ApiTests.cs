using System.Reflection;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;

namespace Proactive.Crypto.Tests.Signing;

/// <summary>Bad signatures and keys from peers are false, caller mistakes throw, secrets are redacted and wiped.</summary>
public class Ed25519ApiTests
{
    [Fact]
    public void Verify_with_a_wrong_length_signature_returns_false_without_throwing()
    {
        using var key = Ed25519PrivateKey.Generate(new DeterministicRandomSource(1));
        var signature = key.Sign("m"u8);
        foreach (var length in new[] { 0, 1, 63, 65, 128 })
        {
            var resized = new byte[length];
            signature.AsSpan(0, Math.Min(length, 64)).CopyTo(resized);
            Assert.False(key.PublicKey.Verify("m"u8, resized));
        }

        Assert.True(key.PublicKey.Verify("m"u8, signature));
        Assert.False(key.PublicKey.Verify("n"u8, signature));
    }

    [Fact]
    public void Public_key_TryDecode_checks_the_length()
    {
        Assert.False(Ed25519PublicKey.TryDecode(new byte[31], out var shortKey));
        Assert.Null(shortKey);
        Assert.False(Ed25519PublicKey.TryDecode(new byte[33], out _));
        Assert.Throws<ArgumentException>(() => Ed25519PublicKey.Decode([]));
    }

    [Theory]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // identity
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // order 4
    [InlineData("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")] // order 8
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // order 2
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = p + 1, non-canonical
    [InlineData("0200000000000000000000000000000000000000000000000000000000000000")] // y = 2: not on the curve
    public void Small_order_non_canonical_and_off_curve_public_keys_are_refused(string hex)
    {
        // The identity is the classic trap: R = identity, S = 0 "verifies" any message in a lax verifier.
        Assert.False(Ed25519PublicKey.TryDecode(Convert.FromHexString(hex), out var key));
        Assert.Null(key);
        Assert.Throws<ArgumentException>(() => Ed25519PublicKey.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Same_seed_gives_the_same_key_and_seed_round_trips()
    {
        using var a = Ed25519PrivateKey.Generate(new DeterministicRandomSource(7));
        using var b = Ed25519PrivateKey.Generate(new DeterministicRandomSource(7));
        Assert.Equal(a.PublicKey, b.PublicKey);
        Assert.Equal(a.Sign("x"u8), b.Sign("x"u8));

        var seed = new byte[Ed25519PrivateKey.SeedLength];
        a.WriteSeedTo(seed);
        using var c = Ed25519PrivateKey.FromSeed(seed);
        Assert.Equal(a.PublicKey, c.PublicKey);
    }

    [Fact]
    public void Caller_misuse_throws_argument_exceptions()
    {
        Assert.Throws<ArgumentException>(() => Ed25519PrivateKey.FromSeed(new byte[31]));
        Assert.Throws<ArgumentException>(() => Ed25519PrivateKey.FromSeed(new byte[33]));
        Assert.Throws<ArgumentNullException>(() => Ed25519PrivateKey.Generate(null!));
        using var key = Ed25519PrivateKey.Generate(new DeterministicRandomSource(2));
        Assert.Throws<ArgumentException>(() => key.Sign("m"u8, new byte[63]));
        Assert.Throws<ArgumentException>(() => key.Sign("m"u8, new byte[65]));
        Assert.Throws<ArgumentException>(() => key.WriteSeedTo(new byte[64]));
    }

    [Fact]
    public void Private_key_prints_redacted_and_is_wiped_on_dispose()
    {
        var key = Ed25519PrivateKey.Generate(new DeterministicRandomSource(3));
        Assert.Equal("<redacted>", key.ToString());
        var secret = (byte[])typeof(Ed25519PrivateKey).GetField("_secretKey", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(key)!;
        Assert.Contains(secret, b => b != 0);

        key.Dispose();
        Assert.All(secret, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => key.Sign("m"u8));
        Assert.Throws<ObjectDisposedException>(() => key.WriteSeedTo(new byte[32]));
    }
}
