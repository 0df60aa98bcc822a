// References: toolkit (seed 001) section 5.1 (registration gives the application a handle it appends to
// every request); docs/API.md "Applications".
namespace Proactive.Node.Api;

/// <summary>
/// The registered application instances this server knows (agreed by the network, so every honest
/// server answers the same): what the request authenticator checks a handle and its signature against.
/// </summary>
public interface IApplicationDirectory
{
    /// <summary>The instance a handle names, or false for a handle nobody registered. Any thread.</summary>
    bool TryGetInstance(string handle, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ApplicationInstance? instance);
}

/// <summary>
/// One registered instance of an application: the 16-byte application id, the instance number (0 for a
/// centralized application, the server id 1..n for an instance of a distributed one), its Ed25519 public
/// key (every request it makes is signed with the private half) and the application's name.
/// </summary>
public sealed record ApplicationInstance(string Handle, byte[] ApplicationId, int Instance, byte[] PublicKey, string Name)
{
    /// <summary>The public key, decoded (and checked to be a point of the curve) once, not at every request.</summary>
    /// <exception cref="ArgumentException">At construction: the key is not a valid Ed25519 public key (the ledger registers only keys that are).</exception>
    public Proactive.Crypto.Signing.Ed25519PublicKey VerifyingKey { get; } = Proactive.Crypto.Signing.Ed25519PublicKey.Decode(PublicKey);
}
