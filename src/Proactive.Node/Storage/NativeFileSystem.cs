// References: POSIX open(2), fsync(2), statvfs(3) (ST_RDONLY); Linux 64-bit struct statvfs layout
// (glibc and musl agree: eleven 8-byte fields, f_flag at byte 72).
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Proactive.Node.Storage;

/// <summary>
/// The few file-system calls .NET does not expose: fsync of a directory (so that a created, renamed
/// or deleted file's directory entry is durable) and whether a path lies on a read-only mount (what
/// makes a ROM file really write-protected). Linux only; elsewhere the answers are "could not tell".
/// </summary>
internal static partial class NativeFileSystem
{
    private const ulong ReadOnlyMountFlag = 1; // ST_RDONLY
    private const int StatvfsFlagOffset = 72;
    private const int StatvfsBufferLength = 256; // the struct is 112 bytes; room for any padding

    /// <summary>fsyncs <paramref name="directory"/>; false when the platform cannot (not Linux) or the call failed.</summary>
    internal static bool TrySyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            var fd = Open(directory, 0 /* O_RDONLY: enough for fsync, and a directory cannot be opened for writing */);
            if (fd < 0)
            {
                return false;
            }

            try
            {
                return Fsync(fd) == 0;
            }
            finally
            {
                _ = Close(fd);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when <paramref name="path"/> is on a file system mounted read-only (including a read-only
    /// bind mount, as a Kubernetes read-only volume is), false when it is writable, null when the
    /// platform cannot tell.
    /// </summary>
    internal static bool? IsOnReadOnlyMount(string path)
    {
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8)
        {
            return null;
        }

        try
        {
            Span<byte> buffer = stackalloc byte[StatvfsBufferLength];
            buffer.Clear();
            if (Statvfs(path, ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                return null;
            }

            var flags = BitConverter.IsLittleEndian
                ? BinaryPrimitives.ReadUInt64LittleEndian(buffer[StatvfsFlagOffset..])
                : BinaryPrimitives.ReadUInt64BigEndian(buffer[StatvfsFlagOffset..]);
            return (flags & ReadOnlyMountFlag) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statvfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statvfs(string path, ref byte buffer);
}
