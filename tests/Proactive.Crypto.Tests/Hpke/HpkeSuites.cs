using Proactive.Crypto.Hpke;

namespace Proactive.Crypto.Tests.Hpke;

/// <summary>Theory data: every implemented suite, by a readable name.</summary>
internal static class HpkeSuites
{
    public static TheoryData<string> Names => new() { "ChaCha20Poly1305", "Aes128Gcm" };

    public static HpkeSuite ByName(string name) => name switch
    {
        "ChaCha20Poly1305" => HpkeSuite.X25519Sha256ChaCha20Poly1305,
        "Aes128Gcm" => HpkeSuite.X25519Sha256Aes128Gcm,
        _ => throw new ArgumentException(name),
    };
}
