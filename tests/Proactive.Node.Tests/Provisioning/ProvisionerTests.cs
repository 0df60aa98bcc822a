using Proactive.Node.Provisioning;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests.Provisioning;

/// <summary>The "manufacturing" step: what it writes, with which modes, and that it never overwrites a server.</summary>
public sealed class ProvisionerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Provisioning_writes_the_rom_read_only_the_start_key_owner_only_and_an_empty_store()
    {
        var directory = new ServerDirectory(_temp.Combine("s5"));
        var result = Provisioner.Provision(directory, 5, new SeededRandom(8));

        Assert.Equal(5, result.ServerId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory.Root));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(directory.RomPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(directory.StartKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory.KeysDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(directory.StorePath));

        Assert.True(RomRecord.TryParse(File.ReadAllBytes(directory.RomPath), out var rom, out var error), error);
        Assert.Equal(5, rom.ServerId);
        Assert.Equal(result.StartPublicKey, rom.StartPublicKey);

        using var store = NodeStore.Open(directory);
        using var startKey = store.LoadStartKey();
        Assert.NotNull(startKey);
        Assert.Equal(result.StartPublicKey, startKey.PublicKey);
        Assert.Equal(result.RomProtection, store.RomProtection);
        Assert.Empty(store.ReadAll().Entries);
    }

    [Fact]
    public void Each_provisioning_makes_a_different_start_key()
    {
        var one = Provisioner.Provision(new ServerDirectory(_temp.Combine("a")), 1, new SeededRandom(1));
        var two = Provisioner.Provision(new ServerDirectory(_temp.Combine("b")), 1, new SeededRandom(2));
        Assert.NotEqual(one.StartPublicKey, two.StartPublicKey);
    }

    [Fact]
    public void A_provisioned_directory_is_never_provisioned_again()
    {
        var directory = new ServerDirectory(_temp.Combine("s1"));
        var first = Provisioner.Provision(directory, 1, new SeededRandom(1));
        var rom = File.ReadAllBytes(directory.RomPath);
        var key = File.ReadAllBytes(directory.StartKeyPath);

        var error = Assert.Throws<ProvisioningException>(() => Provisioner.Provision(directory, 1, new SeededRandom(2)));
        Assert.Contains("already provisioned", error.Message, StringComparison.Ordinal);
        Assert.Equal(rom, File.ReadAllBytes(directory.RomPath));
        Assert.Equal(key, File.ReadAllBytes(directory.StartKeyPath));

        // Also after S_start was erased (initialization done) and with another server id.
        using (var store = NodeStore.Open(directory))
        {
            store.EraseStartKey();
        }

        Assert.Throws<ProvisioningException>(() => Provisioner.Provision(directory, 2, new SeededRandom(3)));
        Assert.False(File.Exists(directory.StartKeyPath));
        Assert.Equal(rom, File.ReadAllBytes(directory.RomPath));
        Assert.Equal(first.StartPublicKey, RomRecord.Read(directory.RomPath).StartPublicKey);
    }

    [Fact]
    public void A_non_empty_directory_is_refused_and_left_as_it_was()
    {
        var root = _temp.Combine("busy");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "notes.txt"), "mine");

        var error = Assert.Throws<ProvisioningException>(() => Provisioner.Provision(new ServerDirectory(root), 1, new SeededRandom(1)));
        Assert.Contains("not empty", error.Message, StringComparison.Ordinal);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName));
    }

    [Fact]
    public void An_existing_empty_directory_is_provisioned()
    {
        var root = _temp.Combine("empty");
        Directory.CreateDirectory(root);
        Provisioner.Provision(new ServerDirectory(root), 2, new SeededRandom(1));
        Assert.True(File.Exists(Path.Combine(root, ServerDirectory.RomFileName)));
    }

    [Fact]
    public void A_rom_already_at_a_separate_path_is_never_overwritten()
    {
        var romPath = _temp.Combine("rom-volume", "rom.json");
        Directory.CreateDirectory(Path.GetDirectoryName(romPath)!);
        File.WriteAllText(romPath, "someone else's");

        Assert.Throws<ProvisioningException>(() => Provisioner.Provision(new ServerDirectory(_temp.Combine("fresh"), romPath), 1, new SeededRandom(1)));
        Assert.Equal("someone else's", File.ReadAllText(romPath));
    }

    [Fact]
    public void A_path_that_is_a_file_is_refused()
    {
        var path = _temp.Combine("file");
        File.WriteAllText(path, "x");
        Assert.Throws<ProvisioningException>(() => Provisioner.Provision(new ServerDirectory(path), 1, new SeededRandom(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void A_server_id_outside_1_to_255_is_a_caller_error(int id)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Provisioner.Provision(new ServerDirectory(_temp.Combine("x")), id, new SeededRandom(1)));
        Assert.False(Directory.Exists(_temp.Combine("x")));
    }
}
