// References: toolkit (seed 001) section 4 ("each computer comes with pre-installed, machine-unique
// pair of secret key S_start (on erasable disk) and public key V_start (on ROM)") and Table 3 (its
// inputs); patent (seed 000) claims 9 and 21; issue 4 item 1 (the "manufacturing" step).
using System.Security.Cryptography;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Storage;
using Proactive.Protocols.Cluster;

namespace Proactive.Node.Provisioning;

/// <summary>
/// The "manufacturing" of one server: its start key pair (S_start, V_start), V_start and the server id
/// in the ROM file (mode 0444 from the moment it is created), S_start in an owner-only key file that
/// initialization erases, and an empty store. Done once per server, before the configuration C exists.
/// </summary>
public static class Provisioner
{
    /// <summary>
    /// Provisions <paramref name="directory"/> for server <paramref name="serverId"/>. The directory
    /// must not exist or be empty, and the ROM must not exist: an existing server's identity is never
    /// overwritten (its V_start may already be in a configuration and its S_start already erased).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="serverId"/> is outside 1..255.</exception>
    /// <exception cref="ProvisioningException">The directory is already provisioned or not empty, or a file could not be written.</exception>
    public static ProvisionResult Provision(ServerDirectory directory, int serverId, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(serverId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serverId, ClusterParameters.MaxServers);
        CheckUnprovisioned(directory);

        try
        {
            KeyFile.CreateOwnerOnlyDirectory(directory.Root);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(directory.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            using var startKey = Ed25519PrivateKey.Generate(random);
            Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
            try
            {
                startKey.WriteSeedTo(seed);
                KeyFile.WriteNew(directory.StartKeyPath, seed);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }

            var rom = new RomRecord(serverId, startKey.PublicKey);
            WriteRom(directory.RomPath, rom);
            NodeStore.Open(directory, StoreOpenMode.CreateIfMissing).Dispose();
            return new ProvisionResult(serverId, startKey.PublicKey, directory, RomProtectionProbe.Probe(directory.RomPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NodeStoreException)
        {
            throw new ProvisioningException($"Provisioning {directory.Root} failed: {e.Message} The directory may be partly written; remove it before trying again.", e);
        }
    }

    private static void CheckUnprovisioned(ServerDirectory directory)
    {
        if (File.Exists(directory.RomPath))
        {
            throw new ProvisioningException($"{directory.Root} is already provisioned ({directory.RomPath} exists). Provisioning again would replace the server's identity; use a new directory.");
        }

        if (File.Exists(directory.Root))
        {
            throw new ProvisioningException($"{directory.Root} is a file, not a directory.");
        }

        if (Directory.Exists(directory.Root) && Directory.EnumerateFileSystemEntries(directory.Root).Any())
        {
            throw new ProvisioningException($"{directory.Root} exists and is not empty; provision into a new or empty directory.");
        }
    }

    /// <summary>Creates the ROM read-only (0444) from the first instant, writes it through the creating handle, fsyncs file and folder.</summary>
    private static void WriteRom(string path, RomRecord rom)
    {
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(rom.Encode());
            file.Flush(flushToDisk: true);
        }

        NativeFileSystem.TrySyncDirectory(folder);
    }
}

/// <summary>What provisioning made: the server id, V_start (to put in the configuration), its directory and how well its ROM is protected here.</summary>
public sealed record ProvisionResult(int ServerId, Ed25519PublicKey StartPublicKey, ServerDirectory Directory, RomProtection RomProtection);

/// <summary>Provisioning refused (already provisioned, not empty) or failed.</summary>
public sealed class ProvisioningException(string message, Exception? innerException = null) : Exception(message, innerException);
