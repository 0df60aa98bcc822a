using System.Text;
using Proactive.Crypto.Signing;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests.Storage;

/// <summary>The ROM record's strict format and the honest report of how the ROM file is protected.</summary>
public sealed class RomTests : IDisposable
{
    private static readonly string ValidKey = StartKeyText.Format(Key(1));
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_rom_record_round_trips_through_its_file_bytes()
    {
        var rom = new RomRecord(7, Key(2));
        Assert.True(RomRecord.TryParse(rom.Encode(), out var parsed, out var error), error);
        Assert.Equal(7, parsed.ServerId);
        Assert.Equal(rom.StartPublicKey, parsed.StartPublicKey);
        Assert.Equal($"{{\"format\":\"proactive-rom-v1\",\"serverId\":7,\"startPublicKey\":\"{StartKeyText.Format(Key(2))}\"}}\n", Encoding.UTF8.GetString(rom.Encode()));
    }

    public static TheoryData<string, string> BadRoms => new()
    {
        { "", "not valid JSON" },
        { "{", "not valid JSON" },
        { "[]", "JSON object" },
        { "{\"serverId\":1,\"startPublicKey\":\"" + ValidKey + "\"}", "format" },
        { "{\"format\":\"proactive-rom-v2\",\"serverId\":1,\"startPublicKey\":\"" + ValidKey + "\"}", "proactive-rom-v2" },
        { "{\"format\":\"proactive-rom-v1\",\"startPublicKey\":\"" + ValidKey + "\"}", "serverId" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":0,\"startPublicKey\":\"" + ValidKey + "\"}", "serverId" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":256,\"startPublicKey\":\"" + ValidKey + "\"}", "serverId" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1.5,\"startPublicKey\":\"" + ValidKey + "\"}", "serverId" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":\"1\",\"startPublicKey\":\"" + ValidKey + "\"}", "serverId" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1}", "startPublicKey" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1,\"startPublicKey\":\"abcd\"}", "startPublicKey" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1,\"startPublicKey\":\"" + new string('z', 64) + "\"}", "startPublicKey" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1,\"startPublicKey\":\"" + new string('0', 64) + "\"}", "startPublicKey" }, // the identity: small order
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1,\"startPublicKey\":\"" + ValidKey + "\",\"networkId\":\"00\"}", "unknown field 'networkId'" },
        { "{\"format\":\"proactive-rom-v1\",\"serverId\":1,\"serverId\":2,\"startPublicKey\":\"" + ValidKey + "\"}", "repeated" },
    };

    [Theory]
    [MemberData(nameof(BadRoms))]
    public void A_malformed_rom_is_rejected_with_the_reason(string text, string reason)
    {
        Assert.False(RomRecord.TryParse(Encoding.UTF8.GetBytes(text), out var rom, out var error));
        Assert.Null(rom);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_rom_is_rejected_without_parsing()
    {
        Assert.False(RomRecord.TryParse(new byte[RomRecord.MaxFileLength + 1], out _, out var error));
        Assert.Contains("at most", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_never_crash_the_rom_parser()
    {
        var random = new SeededRandom(99);
        var valid = new RomRecord(1, Key(3)).Encode();
        Span<byte> pick = stackalloc byte[2];
        for (var i = 0; i < 500; i++)
        {
            var bytes = (byte[])valid.Clone();
            random.Fill(pick);
            bytes[pick[0] % bytes.Length] = pick[1];
            var parsed = RomRecord.TryParse(bytes, out var rom, out var error);
            Assert.True(parsed ? rom is not null : error is not null);
        }
    }

    [Fact]
    public void The_provisioned_rom_mode_stops_writes_except_for_root()
    {
        var directory = _temp.Provision();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(directory.RomPath));

        // Root ignores the mode bits, so as root the honest answer is Writable; otherwise the write is
        // refused, but only by the file's mode on a writable file system.
        var expected = Environment.IsPrivilegedProcess ? RomProtection.Writable : RomProtection.FileModeOnly;
        Assert.Equal(expected, RomProtectionProbe.Probe(directory.RomPath));
        using var store = NodeStore.Open(directory);
        Assert.Equal(expected, store.RomProtection);
    }

    [Fact]
    public void A_rom_whose_mode_allows_writing_is_reported_writable_and_is_not_changed_by_the_probe()
    {
        var path = _temp.Combine("rom.json");
        var bytes = new RomRecord(1, Key(4)).Encode();
        File.WriteAllBytes(path, bytes);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var written = File.GetLastWriteTimeUtc(path);

        Assert.Equal(RomProtection.Writable, RomProtectionProbe.Probe(path));
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
    }

    [Theory]
    [InlineData(false, true, RomProtection.Writable)]
    [InlineData(false, false, RomProtection.Writable)]
    [InlineData(false, null, RomProtection.Writable)]
    [InlineData(true, true, RomProtection.ReadOnlyMount)]
    [InlineData(true, false, RomProtection.FileModeOnly)]
    [InlineData(true, null, RomProtection.FileModeOnly)]
    public void The_protection_is_read_only_mount_only_when_a_write_was_refused_and_the_mount_is_read_only(bool writeRefused, bool? readOnlyMount, RomProtection expected) =>
        Assert.Equal(expected, RomProtectionProbe.Classify(writeRefused, readOnlyMount));

    [Fact]
    public void The_mount_check_finds_the_temp_folder_writable()
    {
        Assert.False(NativeFileSystem.IsOnReadOnlyMount(_temp.Path));
        Assert.True(NativeFileSystem.TrySyncDirectory(_temp.Path));
    }

    [Fact]
    public void Probing_a_missing_rom_is_a_caller_error()
    {
        Assert.Throws<FileNotFoundException>(() => RomProtectionProbe.Probe(_temp.Combine("absent.json")));
    }

    private static Ed25519PublicKey Key(ulong seed)
    {
        using var key = Ed25519PrivateKey.Generate(new SeededRandom(seed));
        return key.PublicKey;
    }
}
