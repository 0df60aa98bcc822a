using Proactive.Crypto.Codec;
using static Proactive.Crypto.Tests.Codec.CodecTestData;

namespace Proactive.Crypto.Tests.Codec;

public class PrimitiveRoundTripTests
{
    [Theory]
    [InlineData((byte)0)]
    [InlineData((byte)1)]
    [InlineData((byte)0x7f)]
    [InlineData((byte)0xff)]
    public void U8_round_trips(byte value)
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteU8(value); });
        Assert.Equal([value], bytes);
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadU8(out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got);
    }

    [Theory]
    [InlineData((ushort)0, "0000")]
    [InlineData((ushort)0x0102, "0102")]
    [InlineData(ushort.MaxValue, "ffff")]
    public void U16_is_big_endian_and_round_trips(ushort value, string hex)
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteU16(value); });
        Assert.Equal(hex, Convert.ToHexStringLower(bytes));
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadU16(out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got);
    }

    [Theory]
    [InlineData(0u, "00000000")]
    [InlineData(0x01020304u, "01020304")]
    [InlineData(uint.MaxValue, "ffffffff")]
    public void U32_is_big_endian_and_round_trips(uint value, string hex)
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteU32(value); });
        Assert.Equal(hex, Convert.ToHexStringLower(bytes));
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadU32(out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got);
    }

    [Theory]
    [InlineData(0ul, "0000000000000000")]
    [InlineData(0x0102030405060708ul, "0102030405060708")]
    [InlineData(ulong.MaxValue, "ffffffffffffffff")]
    public void U64_is_big_endian_and_round_trips(ulong value, string hex)
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteU64(value); });
        Assert.Equal(hex, Convert.ToHexStringLower(bytes));
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadU64(out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got);
    }

    [Theory]
    [InlineData(false, "00")]
    [InlineData(true, "01")]
    public void Bool_is_one_byte_zero_or_one_and_round_trips(bool value, string hex)
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteBool(value); });
        Assert.Equal(hex, Convert.ToHexStringLower(bytes));
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadBool(out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(1000)]
    public void Byte_string_has_a_u32_length_and_round_trips(int length)
    {
        var value = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        var bytes = Write(h => { var w = h.Writer(); w.WriteBytes(value, 1000); });
        Assert.Equal(4 + length, bytes.Length);
        Assert.Equal((uint)length, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadBytes(1000, out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got.ToArray());
    }

    [Fact]
    public void Fixed_bytes_have_no_prefix_and_round_trip()
    {
        var value = new byte[] { 9, 8, 7 };
        var bytes = Write(h => { var w = h.Writer(); w.WriteFixedBytes(value); });
        Assert.Equal(value, bytes);
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadFixedBytes(3, out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("period 42")]
    [InlineData("héllo wörld")]
    [InlineData("鍵 🔑")]
    public void Utf8_string_round_trips(string value)
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteString(value, 64); });
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(value), bytes[4..]);
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadString(64, out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(value, got);
    }

    [Theory]
    [MemberData(nameof(Suites), MemberType = typeof(CodecTestData))]
    public void Scalar_round_trips_in_every_suite(string suite)
    {
        var g = Group(suite);
        foreach (var s in new[] { g.Zero, g.One, g.FromUInt64(0xdeadbeef), g.Negate(g.One) })
        {
            var bytes = Write(h => { var w = h.Writer(); w.WriteScalar(g, s); });
            Assert.Equal(g.ScalarLength, bytes.Length);
            var r = new CanonicalReader(bytes);
            Assert.True(r.TryReadScalar(g, out var got));
            Assert.True(r.TryReadEnd());
            Assert.Equal(s, got);
        }
    }

    [Theory]
    [MemberData(nameof(Suites), MemberType = typeof(CodecTestData))]
    public void Element_round_trips_in_every_suite_and_identity_only_where_allowed(string suite)
    {
        var g = Group(suite);
        var p = Point(g, 77);
        var bytes = Write(h => { var w = h.Writer(); w.WriteElement(g, p); w.WriteElement(g, g.Identity, allowIdentity: true); });
        Assert.Equal(2 * g.ElementLength, bytes.Length);
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadElement(g, out var got));
        Assert.True(r.TryReadElement(g, out var id, allowIdentity: true));
        Assert.True(r.TryReadEnd());
        Assert.Equal(p, got);
        Assert.True(g.IsIdentity(id));
    }

    [Fact]
    public void List_has_a_u32_count_and_round_trips()
    {
        ulong[] values = [1, 2, ulong.MaxValue];
        var bytes = Write(h => { var w = h.Writer(); w.WriteList<ulong>(values, 8, static (ref CanonicalWriter w, int _, ulong v) => w.WriteU64(v)); });
        Assert.Equal("00000003", Convert.ToHexStringLower(bytes[..4]));
        Assert.Equal(4 + 24, bytes.Length);
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadList(8, 8, static (ref CanonicalReader r, int _, out ulong v) => r.TryReadU64(out v), out var got));
        Assert.True(r.TryReadEnd());
        Assert.Equal(values, got);
    }

    [Fact]
    public void Empty_list_round_trips()
    {
        var bytes = Write(h => { var w = h.Writer(); w.WriteList<ulong>([], 8, static (ref CanonicalWriter w, int _, ulong v) => w.WriteU64(v)); });
        Assert.Equal("00000000", Convert.ToHexStringLower(bytes));
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadList(8, 8, static (ref CanonicalReader r, int _, out ulong v) => r.TryReadU64(out v), out var got));
        Assert.True(r.TryReadEnd());
        Assert.Empty(got);
    }

    [Theory]
    [MemberData(nameof(Suites), MemberType = typeof(CodecTestData))]
    public void Header_round_trips_and_names_the_suite(string suite)
    {
        var g = Group(suite);
        var bytes = Write(h => { var w = h.Writer(); w.WriteHeader(9, g); });
        Assert.Equal([9, (byte)g.Id], bytes);
        var r = new CanonicalReader(bytes);
        Assert.True(r.TryReadHeader(9, null, out var any));
        Assert.Same(g, any);
        r = new CanonicalReader(bytes);
        Assert.True(r.TryReadHeader(9, g, out var same));
        Assert.Same(g, same);
        Assert.True(r.TryReadEnd());
    }

    [Fact]
    public void Fixed_span_writer_writes_the_same_bytes_as_the_buffer_writer()
    {
        var sample = ExampleMessage.Sample(Group("P-256"));
        var viaBuffer = Write(h => { var w = h.Writer(); sample.WriteTo(ref w); });
        Assert.Equal(viaBuffer, sample.Encode());
        Assert.Equal(sample.EncodedLength, viaBuffer.Length);
    }
}
