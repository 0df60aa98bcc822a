using Proactive.Crypto.Codec;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Protocols.Envelopes;

namespace Proactive.Protocols.Tests.Envelopes;

public sealed class PeriodKeysTests
{
    [Fact]
    public void Same_seed_gives_the_same_keys_and_another_seed_other_keys()
    {
        using var a = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        using var b = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        using var c = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(6));

        Assert.Equal(a.PublicKeys, b.PublicKeys);
        Assert.NotEqual(a.PublicKeys, c.PublicKeys);
        Assert.NotEqual(a.PublicKeys.Signing.ToArray(), a.PublicKeys.Encryption.ToArray());
    }

    [Fact]
    public void Keys_never_print_their_secrets()
    {
        using var keys = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));

        Assert.Equal("<redacted>", keys.ToString());
    }

    [Fact]
    public void Disposed_keys_can_no_longer_sign()
    {
        var keys = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        keys.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keys.Signing.Sign([1]));
        Assert.Throws<ObjectDisposedException>(() => keys.Encryption.WriteTo(new byte[32]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void Server_ids_outside_1_to_65535_are_refused(int serverId)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PeriodKeys.Generate(serverId, 0, new DeterministicRandomSource(1)));
    }

    [Fact]
    public void Public_keys_round_trip_through_their_encoding()
    {
        using var keys = PeriodKeys.Generate(300, ulong.MaxValue, new DeterministicRandomSource(5));
        var bytes = keys.PublicKeys.Encode();

        Assert.Equal(PeriodPublicKeys.EncodedLength, bytes.Length);
        Assert.True(PeriodPublicKeys.TryDecode(bytes, out var decoded, out var failure), failure.ToString());
        Assert.Equal(keys.PublicKeys, decoded);
        Assert.Equal(300, decoded.ServerId);
        Assert.Equal(ulong.MaxValue, decoded.Period);
    }

    public static TheoryData<string, int, byte, CodecError> Corruptions => new()
    {
        { "version", 0, 0x02, CodecError.WrongVersion },
        { "server 0", 2, 0x00, CodecError.InvalidValue },
        { "signing key not a point", 11, 0xff, CodecError.InvalidElement },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupted_public_keys_are_refused_with_the_reason(string what, int offset, byte value, CodecError expected)
    {
        using var keys = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        var bytes = keys.PublicKeys.Encode();
        bytes[offset] = value;
        if (what == "signing key not a point")
        {
            // All 0xff is not a canonical field element.
            bytes.AsSpan(11, 32).Fill(0xff);
        }

        Assert.False(PeriodPublicKeys.TryDecode(bytes, out _, out var failure));
        Assert.Equal(expected, failure.Error);
    }

    [Fact]
    public void Truncated_or_extended_public_keys_are_refused()
    {
        using var keys = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        var bytes = keys.PublicKeys.Encode();

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(PeriodPublicKeys.TryDecode(bytes.AsSpan(0, length), out _, out var failure));
            Assert.Equal(CodecError.Truncated, failure.Error);
        }

        Assert.False(PeriodPublicKeys.TryDecode([.. bytes, 0], out _, out var trailing));
        Assert.Equal(CodecError.TrailingBytes, trailing.Error);
    }

    [Fact]
    public void Directory_keeps_the_first_keys_of_a_server_in_a_period_and_refuses_different_ones()
    {
        using var first = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        using var impostor = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(6));
        var directory = new PeriodKeyDirectory();

        Assert.True(directory.TryAdd(first.PublicKeys));
        Assert.True(directory.TryAdd(first.PublicKeys));
        Assert.False(directory.TryAdd(impostor.PublicKeys));

        Assert.True(directory.TryGet(1, 7, out var found));
        Assert.Equal(first.PublicKeys, found);
        Assert.False(directory.TryGet(1, 8, out _));
        Assert.False(directory.TryGet(2, 7, out _));
    }

    [Fact]
    public void Directory_forgets_periods_before_a_given_one()
    {
        var directory = new PeriodKeyDirectory();
        for (ulong period = 0; period < 4; period++)
        {
            using var keys = PeriodKeys.Generate(1, period, new DeterministicRandomSource(period));
            directory.TryAdd(keys.PublicKeys);
        }

        directory.RemovePeriodsBefore(2);

        Assert.Equal(2, directory.Count);
        Assert.False(directory.TryGet(1, 1, out _));
        Assert.True(directory.TryGet(1, 2, out _));
    }

    [Fact]
    public void Any_32_bytes_decode_as_an_hpke_key_as_rfc_9180_specifies()
    {
        using var keys = PeriodKeys.Generate(1, 7, new DeterministicRandomSource(5));
        var bytes = keys.PublicKeys.Encode();
        bytes.AsSpan(PeriodPublicKeys.EncodedLength - HpkeSuite.PublicKeyLength).Clear();

        Assert.True(PeriodPublicKeys.TryDecode(bytes, out var decoded));
        Assert.Equal(new byte[32], decoded.Encryption.ToArray());
    }
}
