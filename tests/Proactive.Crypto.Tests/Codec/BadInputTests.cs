using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using static Proactive.Crypto.Tests.Codec.CodecTestData;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Untrusted bytes are refused with a reason and an offset, never an exception. Header checks
/// (version, suite) through a real wire type are in Sharing/FeldmanCommitmentCodecTests.
/// </summary>
public class BadInputTests
{
    private const string Ed25519Order = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    private const string P256Order = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

    public static TheoryData<string> Suites => CodecTestData.Suites;

    [Theory]
    [MemberData(nameof(Suites))]
    public void Every_proper_prefix_of_an_example_message_is_truncated(string suite)
    {
        var bytes = ExampleMessage.Sample(Group(suite)).Encode();
        for (var n = 0; n < bytes.Length; n++)
        {
            Assert.False(CanonicalEncoding.TryDecode<ExampleMessage>(bytes.AsSpan(0, n), null, out _, out var failure), $"prefix {n}");
            Assert.True(failure.Error == CodecError.Truncated, $"prefix {n}: {failure}");
            Assert.InRange(failure.Offset, 0, n);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Trailing_bytes_are_rejected_at_the_end_offset(string suite)
    {
        var g = Group(suite);
        var message = ExampleMessage.Sample(g).Encode();
        Assert.False(CanonicalEncoding.TryDecode<ExampleMessage>([.. message, 0xff, 0xff], g, out _, out var failure));
        Assert.Equal(new CodecFailure(CodecError.TrailingBytes, message.Length, null), failure);
    }

    [Fact]
    public void Byte_string_over_its_limit_is_too_long()
    {
        var bytes = Hex("00000005" + "0102030405");
        var r = new CanonicalReader(bytes);
        Assert.False(r.TryReadBytes(4, out _, "payload"));
        Assert.Equal(new CodecFailure(CodecError.TooLong, 0, "payload"), r.Failure);
        Assert.Equal("field 'payload' at offset 0: TooLong", r.Failure.ToString());
    }

    [Fact]
    public void Length_prefix_claiming_4_GB_with_a_tiny_buffer_fails_without_allocating()
    {
        var bytes = Hex("ffffffff" + "00");
        var before = GC.GetAllocatedBytesForCurrentThread();

        var r = new CanonicalReader(bytes);
        Assert.False(r.TryReadBytes(int.MaxValue, out _));
        Assert.Equal(CodecError.TooLong, r.Error);

        // Within the limit but beyond the data: truncated, still nothing allocated.
        var r2 = new CanonicalReader(Hex("7fffffff" + "00"));
        Assert.False(r2.TryReadBytes(int.MaxValue, out _));
        Assert.Equal(CodecError.Truncated, r2.Error);

        var r3 = new CanonicalReader(Hex("7fffffff" + "00"));
        Assert.False(r3.TryReadString(int.MaxValue, out _));
        Assert.Equal(CodecError.Truncated, r3.Error);

        // A list count of 2^31-1 items of 8 bytes each, with 1 byte present.
        var r4 = new CanonicalReader(Hex("7fffffff" + "00"));
        Assert.False(r4.TryReadList(int.MaxValue, 8, static (ref CanonicalReader r, int _, out ulong v) => r.TryReadU64(out v), out _));
        Assert.Equal(CodecError.Truncated, r4.Error);

        var r5 = new CanonicalReader(Hex("ffffffff" + "00"));
        Assert.False(r5.TryReadCount(int.MaxValue, 1, out _));
        Assert.Equal(CodecError.TooLong, r5.Error);

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024, "a length prefix made the reader allocate");
    }

    [Theory]
    [InlineData("Ed25519", Ed25519Order)]
    [InlineData("ristretto255", Ed25519Order)]
    [InlineData("P-256", P256Order)]
    [InlineData("Ed25519", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    [InlineData("P-256", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void Scalar_not_below_the_order_is_invalid(string suite, string hex)
    {
        var r = new CanonicalReader(Hex("aa" + hex));
        Assert.True(r.TryReadU8(out _));
        Assert.False(r.TryReadScalar(Group(suite), out _, "challenge"));
        Assert.Equal(new CodecFailure(CodecError.InvalidScalar, 1, "challenge"), r.Failure);
    }

    [Theory]
    [InlineData("Ed25519", "0100000000000000000000000000000000000000000000000000000000000000", false)] // identity
    [InlineData("Ed25519", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", true)] // order 8
    [InlineData("Ed25519", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", true)] // order 2, (0,-1)
    [InlineData("Ed25519", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", true)] // y = p, non-canonical
    [InlineData("ristretto255", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", true)] // non-canonical
    [InlineData("ristretto255", "0100000000000000000000000000000000000000000000000000000000000000", true)] // non-canonical (negative)
    [InlineData("ristretto255", "0000000000000000000000000000000000000000000000000000000000000000", false)] // identity
    [InlineData("P-256", "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296", true)] // 0x04 prefix, 33 bytes
    [InlineData("P-256", "020000000000000000000000000000000000000000000000000000000000000001", true)] // x = 1 is not on the curve
    [InlineData("P-256", "02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", true)] // x >= p
    [InlineData("P-256", "000000000000000000000000000000000000000000000000000000000000000000", false)] // identity
    [InlineData("P-256", "000000000000000000000000000000000000000000000000000000000000000001", true)] // bad prefix
    public void Invalid_elements_are_rejected(string suite, string hex, bool alsoWhenIdentityAllowed)
    {
        var g = Group(suite);
        var bytes = Hex(hex);
        var r = new CanonicalReader(bytes);
        Assert.False(r.TryReadElement(g, out _, allowIdentity: false, field: "commitment"));
        Assert.Equal(new CodecFailure(CodecError.InvalidElement, 0, "commitment"), r.Failure);

        r = new CanonicalReader(bytes);
        Assert.Equal(!alsoWhenIdentityAllowed, r.TryReadElement(g, out _, allowIdentity: true));
    }

    [Theory]
    [InlineData((byte)2)]
    [InlineData((byte)0x80)]
    [InlineData((byte)0xff)]
    public void Bool_other_than_zero_or_one_is_non_canonical(byte value)
    {
        var r = new CanonicalReader([value]);
        Assert.False(r.TryReadBool(out _, "final"));
        Assert.Equal(new CodecFailure(CodecError.NonCanonical, 0, "final"), r.Failure);
    }

    [Theory]
    [InlineData("c080")]         // overlong NUL
    [InlineData("e08080")]       // overlong
    [InlineData("eda080")]       // UTF-16 surrogate D800
    [InlineData("f4908080")]     // above U+10FFFF
    [InlineData("80")]           // stray continuation byte
    [InlineData("ff")]           // never valid
    [InlineData("68c3")]         // cut inside a sequence
    public void Invalid_utf8_is_rejected(string hex)
    {
        var payload = Hex(hex);
        byte[] bytes = [0xaa, 0, 0, 0, (byte)payload.Length, .. payload];
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadU8(out _));
        Assert.False(r.TryReadString(32, out _, "label"));
        Assert.Equal(new CodecFailure(CodecError.InvalidUtf8, 1, "label"), r.Failure);
    }

    [Fact]
    public void First_failure_is_kept_and_later_reads_fail()
    {
        var r = new CanonicalReader(Hex("02" + "0000000000000000"));
        Assert.False(r.TryReadBool(out _, "flag"));
        Assert.False(r.TryReadU64(out _, "next"));
        Assert.False(r.TryReadEnd());
        Assert.False(r.Fail(CodecError.InvalidValue, 5, "later"));
        Assert.Equal(new CodecFailure(CodecError.NonCanonical, 0, "flag"), r.Failure);
    }

    [Fact]
    public void Writer_throws_for_values_over_their_declared_limits()
    {
        var h = new ArrayBufferWriterHolder();
        Assert.Throws<ArgumentException>(() => { var w = h.Writer(); w.WriteBytes(new byte[5], 4); });
        Assert.Throws<ArgumentException>(() => { var w = h.Writer(); w.WriteString("12345", 4); });
        Assert.Throws<ArgumentException>(() => { var w = h.Writer(); w.WriteString("é", 1); });
        Assert.Throws<ArgumentException>(() => { var w = h.Writer(); w.WriteCount(3, 2); });
        Assert.Throws<ArgumentException>(() => { var w = h.Writer(); w.WriteList<int>([1, 2, 3], 2, static (ref CanonicalWriter w, int _, int v) => w.WriteU32((uint)v)); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { var w = h.Writer(); w.WriteBytes([], -1); });
        Assert.Equal(0, h.Buffer.WrittenCount);
    }

    [Fact]
    public void Writer_throws_for_strings_with_no_utf8_encoding()
    {
        var h = new ArrayBufferWriterHolder();
        Assert.ThrowsAny<ArgumentException>(() => { var w = h.Writer(); w.WriteString("a\ud800b", 16); });
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Writer_throws_for_the_identity_where_it_is_not_allowed(string suite)
    {
        var g = Group(suite);
        var h = new ArrayBufferWriterHolder();
        Assert.Throws<ArgumentException>(() => { var w = h.Writer(); w.WriteElement(g, g.Identity); });
    }

    [Fact]
    public void Fixed_span_writer_throws_when_the_destination_is_too_small()
    {
        Assert.Throws<ArgumentException>(() =>
        {
            var w = new CanonicalWriter(new byte[3]);
            w.WriteU32(1);
        });
    }
}
