namespace Proactive.Cli.Commands;

/// <summary>Files a reader must never see half written (the cluster configuration, the cluster state).</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes next to the target and renames, so a reader never sees half a file; without
    /// <paramref name="replace"/> an existing file is kept (the rename fails with an <see cref="IOException"/>).
    /// </summary>
    internal static void Write(string path, ReadOnlySpan<byte> content, bool replace, UnixFileMode? mode = null)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (mode is { } unixMode && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = unixMode;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: replace);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
