using Proactive.Crypto.Codec;
using static Proactive.Crypto.Tests.Codec.CodecTestData;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Pins exact bytes: a change here changes what peers hash and sign, so it needs a new format
/// version, never an edited snapshot. The group elements were cross-checked against published
/// values (RFC 8032 base point, RFC 9496 appendix A.1 multiples, SEC 2 / NIST P-256 G, 2G, 3G).
/// </summary>
public class SnapshotTests
{
    [Fact]
    public void Header_and_every_field_kind_have_pinned_bytes()
    {
        const string expected =
            "0701"                                  // version 7, suite Ed25519
            + "2a"                                  // u8
            + "0102"                                // u16
            + "03040506"                            // u32
            + "0708090a0b0c0d0e"                    // u64
            + "01"                                  // bool true
            + "00000004" + "deadbeef"               // bytes
            + "00000006" + "68c3a96c6c6f"           // string "héllo"
            + "0500000000000000000000000000000000000000000000000000000000000000" // scalar 5, little-endian
            + "c9a3f86aae465f0e56513864510f3997561fa2c9e85ea21dc2292309f3cd6022" // 2G
            + "00000003" + "0001" + "0002" + "ffff"; // list of u16
        var bytes = ExampleMessage.Sample(Group("Ed25519")).Encode();
        Assert.Equal(expected, Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void P256_fields_are_big_endian_scalars_and_compressed_points()
    {
        const string expected =
            "0703" + "2a" + "0102" + "03040506" + "0708090a0b0c0d0e" + "01"
            + "00000004deadbeef" + "0000000668c3a96c6c6f"
            + "0000000000000000000000000000000000000000000000000000000000000005"
            + "037cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
            + "0000000300010002ffff";
        Assert.Equal(expected, Convert.ToHexStringLower(ExampleMessage.Sample(Group("P-256")).Encode()));
    }

    [Theory]
    [InlineData(
        "Ed25519",
        "0101" + "00" + "00000003"
        + "5866666666666666666666666666666666666666666666666666666666666666"
        + "c9a3f86aae465f0e56513864510f3997561fa2c9e85ea21dc2292309f3cd6022"
        + "d4b4f5784868c3020403246717ec169ff79e26608ea126a1ab69ee77d1b16712")]
    [InlineData(
        "ristretto255",
        "0102" + "00" + "00000003"
        + "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"
        + "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919"
        + "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259")]
    [InlineData(
        "P-256",
        "0103" + "00" + "00000003"
        + "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        + "037cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
        + "025ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c")]
    public void Commitment_vector_of_G_2G_3G_has_pinned_bytes(string suite, string expected)
    {
        var g = Group(suite);
        var vector = Vector(g);
        Assert.Equal(expected, Convert.ToHexStringLower(vector.Encode()));
        Assert.True(CommitmentVector.TryDecode(Hex(expected), g, out var decoded, out CodecError error), error.ToString());
        Assert.Equal(vector, decoded);
    }

    [Theory]
    [InlineData(
        "Ed25519",
        "0101" + "01" + "00000002"
        + "0100000000000000000000000000000000000000000000000000000000000000"
        + "5866666666666666666666666666666666666666666666666666666666666666")]
    [InlineData(
        "ristretto255",
        "0102" + "01" + "00000002"
        + "0000000000000000000000000000000000000000000000000000000000000000"
        + "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")]
    [InlineData(
        "P-256",
        "0103" + "01" + "00000002"
        + "000000000000000000000000000000000000000000000000000000000000000000"
        + "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")]
    public void Zero_constant_commitment_vector_has_pinned_bytes(string suite, string expected)
    {
        var g = Group(suite);
        var vector = ZeroConstantVector(g);
        Assert.Equal(expected, Convert.ToHexStringLower(vector.Encode()));
        Assert.True(CommitmentVector.TryDecode(Hex(expected), g, out var decoded, out CodecError error), error.ToString());
        Assert.Equal(vector, decoded);
        Assert.True(decoded.ConstantTermIsZero);
    }
}
