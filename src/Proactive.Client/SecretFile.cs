// References: STYLE.md rule 6 (secrets wiped, files owner-only).
using System.Security.Cryptography;

namespace Proactive.Client;

/// <summary>
/// The SDK's files that hold a private key (an instance's credentials, a Certificate Authority's key): read
/// only when owner-only, as ssh refuses a private key others may read, and written owner-only from the
/// moment the file exists, atomically (a temporary file renamed over it).
/// </summary>
internal static class SecretFile
{
    /// <summary>The file's bytes (the caller wipes them); <paramref name="fail"/> makes the exception for a file that cannot be used.</summary>
    internal static byte[] Read(string path, int maxLength, Func<string, Exception?, Exception> fail)
    {
        try
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            {
                throw fail($"{path} holds a private key but group or others may access it; make it owner-only (chmod 600 {path}).", null);
            }

            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (file.Length > maxLength)
            {
                throw fail($"{path} is {file.Length} bytes: too large to be the file it should be.", null);
            }

            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw fail($"Cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> owner-only (0600), atomically; creates the
    /// folder (0700) if missing.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or it cannot be written.</exception>
    internal static void Write(string path, ReadOnlySpan<byte> content, bool overwrite)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        if (!overwrite && File.Exists(full))
        {
            throw new IOException($"{path} exists; it holds a key that would be lost.");
        }

        var temporary = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var file = new FileStream(temporary, options))
            {
                file.Write(content);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Lowercase hex digits of <paramref name="bytes"/> as UTF-8, into <paramref name="hex"/> (twice as long): a seed never becomes a string.</summary>
    internal static void ToLowerHexUtf8(ReadOnlySpan<byte> bytes, Span<byte> hex)
    {
        ReadOnlySpan<byte> digits = "0123456789abcdef"u8;
        for (var i = 0; i < bytes.Length; i++)
        {
            hex[2 * i] = digits[bytes[i] >> 4];
            hex[(2 * i) + 1] = digits[bytes[i] & 0xF];
        }
    }

    /// <summary>Decodes lowercase hex (UTF-8 bytes) of exactly <paramref name="bytes"/>' length; false for anything else.</summary>
    internal static bool TryFromLowerHexUtf8(ReadOnlySpan<byte> hex, Span<byte> bytes)
    {
        if (hex.Length != 2 * bytes.Length)
        {
            return false;
        }

        static int Digit(byte c) => c is >= (byte)'0' and <= (byte)'9' ? c - '0' : c is >= (byte)'a' and <= (byte)'f' ? c - 'a' + 10 : -1;
        for (var i = 0; i < bytes.Length; i++)
        {
            int high = Digit(hex[2 * i]), low = Digit(hex[(2 * i) + 1]);
            if (high < 0 || low < 0)
            {
                CryptographicOperations.ZeroMemory(bytes);
                return false;
            }

            bytes[i] = (byte)((high << 4) | low);
        }

        return true;
    }
}
