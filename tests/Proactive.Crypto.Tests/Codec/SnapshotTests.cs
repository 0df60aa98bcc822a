using static Proactive.Crypto.Tests.Codec.CodecTestData;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Pins exact bytes: a change here changes what peers hash and sign, so it needs a new format
/// version, never an edited snapshot. The group elements were cross-checked against published
/// values (RFC 8032 base point, RFC 9496 appendix A.1 multiples, SEC 2 / NIST P-256 G, 2G, 3G).
/// The Feldman commitment snapshots live in Sharing/FeldmanCommitmentCodecTests.
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
}
