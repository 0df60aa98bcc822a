using System.Runtime.InteropServices;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Tests.Interop;

public class NativeLibraryTests
{
    [Fact]
    public void Size_constants_match_what_libsodium_reports()
    {
        Libsodium.EnsureInitialized();
        Libsodium.CheckSizeConstants(); // throws, naming the function, on any mismatch
    }

    [Fact]
    public void Initialization_is_idempotent_and_thread_safe()
    {
        Parallel.For(0, 16, _ => Libsodium.EnsureInitialized());
        Assert.Equal(1, Libsodium.sodium_init()); // 1 = already initialized
    }

    [Fact]
    public void A_missing_library_becomes_one_exception_that_names_the_package()
    {
        var e = Assert.Throws<NativeLibraryMissingException>(() =>
            NativeLibraries.Load("libproactive-does-not-exist.so.9", "proactive-test-package", typeof(NativeLibraries).Assembly, null));
        Assert.Equal("libproactive-does-not-exist.so.9", e.Soname);
        Assert.Equal("proactive-test-package", e.Package);
        Assert.Contains("apt-get install -y proactive-test-package", e.Message);
    }

    [Fact]
    public void The_versioned_sonames_load_on_this_machine()
    {
        var sodium = NativeLibraries.Load(NativeLibraries.SodiumSoname, NativeLibraries.SodiumPackage, typeof(NativeLibraries).Assembly, null);
        var crypto = NativeLibraries.Load(NativeLibraries.CryptoSoname, NativeLibraries.CryptoPackage, typeof(NativeLibraries).Assembly, null);
        Assert.NotEqual(IntPtr.Zero, sodium);
        Assert.NotEqual(IntPtr.Zero, crypto);
        Assert.True(NativeLibrary.TryGetExport(sodium, "crypto_core_ristretto255_add", out _));
        Assert.True(NativeLibrary.TryGetExport(crypto, "EC_POINTs_mul", out _));
    }
}
