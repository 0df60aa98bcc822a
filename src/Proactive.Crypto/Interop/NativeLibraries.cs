using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>
/// Maps the logical library names used by <c>[LibraryImport]</c> to the versioned sonames.
/// The unversioned names (<c>libsodium.so</c>, <c>libcrypto.so</c>) exist only where the -dev
/// packages are installed, so we never rely on them (CRYPTO-COSTS.md, "Traps").
/// </summary>
internal static class NativeLibraries
{
    internal const string Sodium = "libsodium";
    internal const string Crypto = "libcrypto";

    internal const string SodiumSoname = "libsodium.so.23";
    internal const string CryptoSoname = "libcrypto.so.3";

    // What to install when a library is missing. Debian/Ubuntu package names.
    internal const string SodiumPackage = "libsodium23";
    internal const string CryptoPackage = "libssl3";

#pragma warning disable CA2255 // A module initializer is the one place that runs before any P/Invoke of this assembly.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var (soname, package) = name switch
        {
            Sodium => (SodiumSoname, SodiumPackage),
            Crypto => (CryptoSoname, CryptoPackage),
            _ => (null, null),
        };
        return soname is null ? IntPtr.Zero : Load(soname, package!, assembly, searchPath);
    }

    /// <summary>Loads a versioned soname, or throws the one exception that names the package to install.</summary>
    internal static IntPtr Load(string soname, string package, Assembly assembly, DllImportSearchPath? searchPath) =>
        NativeLibrary.TryLoad(soname, assembly, searchPath, out var handle)
            ? handle
            : throw new NativeLibraryMissingException(soname, package);
}

/// <summary>
/// A native library Proactive needs could not be loaded. The message names the package to install.
/// </summary>
public sealed class NativeLibraryMissingException : Exception
{
    internal NativeLibraryMissingException(string soname, string package)
        : base($"Cannot load the native library '{soname}'. Install it with: apt-get install -y {package}")
    {
        Soname = soname;
        Package = package;
    }

    public NativeLibraryMissingException()
    {
        Soname = string.Empty;
        Package = string.Empty;
    }

    public NativeLibraryMissingException(string message) : base(message)
    {
        Soname = string.Empty;
        Package = string.Empty;
    }

    public NativeLibraryMissingException(string message, Exception innerException) : base(message, innerException)
    {
        Soname = string.Empty;
        Package = string.Empty;
    }

    /// <summary>The versioned file name that failed to load, e.g. <c>libsodium.so.23</c>.</summary>
    public string Soname { get; }

    /// <summary>The Debian package that provides it.</summary>
    public string Package { get; }
}
