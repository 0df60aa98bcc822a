// References: toolkit (seed 001) section 3.2 ("ROM data ... assumed to be immutable"); docs/BRIEF.md
// section 4 ("status reports whether it is really write-protected"), section 8 (a read-only volume).
namespace Proactive.Node.Storage;

/// <summary>
/// How well the ROM file is actually protected against writes by this process, strongest first. The
/// toolkit assumes V_start cannot be changed; on a general-purpose machine that only holds as far as
/// the file system enforces it, so the server reports what it found instead of assuming.
/// </summary>
public enum RomProtection
{
    /// <summary>
    /// The file is on a read-only mount (a read-only volume or bind mount): a write was refused and
    /// changing the file needs a remount. Still not a hardware ROM: root on this machine can remount.
    /// </summary>
    ReadOnlyMount,

    /// <summary>
    /// A write was refused, but the file system is writable: the protection is the file's own (mode
    /// 0444, an immutable attribute), which its owner or root can lift.
    /// </summary>
    FileModeOnly,

    /// <summary>This process could open the ROM for writing (it runs as root, or the mode allows it): an intruder in the process could change V_start.</summary>
    Writable,
}

/// <summary>Finds the <see cref="RomProtection"/> of a file by trying, not by reading its mode alone.</summary>
public static class RomProtectionProbe
{
    /// <summary>
    /// Opens <paramref name="path"/> for writing (never truncating, never writing a byte) and, when
    /// that is refused, asks whether its file system is mounted read-only.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    public static RomProtection Probe(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("The ROM file does not exist.", path);
        }

        return Classify(WriteOpenRefused(path), NativeFileSystem.IsOnReadOnlyMount(path));
    }

    /// <summary>
    /// The decision table: a successful write open means <see cref="RomProtection.Writable"/>, whatever
    /// else holds; a refused one is <see cref="RomProtection.ReadOnlyMount"/> only when the mount says
    /// so (an unknown answer never claims the stronger protection).
    /// </summary>
    internal static RomProtection Classify(bool writeOpenRefused, bool? onReadOnlyMount) =>
        !writeOpenRefused ? RomProtection.Writable
        : onReadOnlyMount == true ? RomProtection.ReadOnlyMount
        : RomProtection.FileModeOnly;

    private static bool WriteOpenRefused(string path)
    {
        try
        {
            // FileMode.Open never creates or truncates; nothing is written; FileShare.ReadWrite takes no lock.
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true; // EACCES, EPERM (immutable attribute)
        }
        catch (IOException) when (File.Exists(path))
        {
            return true; // EROFS and the like
        }
    }
}
