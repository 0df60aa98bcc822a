// References: docs/BRIEF.md section 5 ("Secret values of any size: a random data key is secret-shared
// and the value is AEAD-encrypted under it"); RFC 5869 (HKDF); RFC 8439 (ChaCha20-Poly1305); RFC 9180
// (HPKE, which carries each share to and from its server).
using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;

namespace Proactive.Protocols.Application;

/// <summary>
/// The client's side of a stored secret: deal a random data key in shares of degree t (one per server),
/// encrypt the value under a key derived from it, and later rebuild the value from t + 1 shares of one
/// sharing. The value's authentication tag is the check: a combination with a wrong share gives a
/// wrong key, whose decryption fails, so the client tries combinations until one opens (no server is
/// trusted with the value, and no single server can make the client accept a wrong one).
/// </summary>
public static class DataKeySharing
{
    /// <summary>Nonce length of the value's ChaCha20-Poly1305.</summary>
    public const int NonceLength = 12;

    /// <summary>Tag length.</summary>
    public const int TagLength = 16;

    /// <summary>Most combinations of t + 1 shares a reconstruction tries before giving up.</summary>
    public const int MaxCombinations = 20_000;

    /// <summary>A fresh data key and its shares for servers 1..n (index i - 1 holds server i's). The caller wipes them.</summary>
    public static (Scalar Key, Scalar[] Shares) Deal(PrimeOrderGroup group, int serverCount, int threshold, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(random);
        var key = group.RandomNonzeroScalar(random);
        using var polynomial = Polynomial.Random(group, threshold, key, random);
        var shares = new Scalar[serverCount];
        for (var i = 0; i < serverCount; i++)
        {
            shares[i] = polynomial.Evaluate(group.FromUInt64((ulong)(i + 1)));
        }

        return (key, shares);
    }

    /// <summary>nonce || ChaCha20-Poly1305(value) || tag under the key derived from <paramref name="dataKey"/>, bound to the application, the entry and the dealing.</summary>
    public static byte[] Encrypt(PrimeOrderGroup group, Scalar dataKey, string applicationIdHex, string dataId, ReadOnlySpan<byte> dealing, ReadOnlySpan<byte> value, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var output = new byte[NonceLength + value.Length + TagLength];
        random.Fill(output.AsSpan(0, NonceLength));
        Span<byte> key = stackalloc byte[32];
        DeriveKey(group, dataKey, applicationIdHex, dataId, key);
        try
        {
            using var aead = new ChaCha20Poly1305(key);
            aead.Encrypt(output.AsSpan(0, NonceLength), value, output.AsSpan(NonceLength, value.Length), output.AsSpan(NonceLength + value.Length), Associated(applicationIdHex, dataId, dealing));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return output;
    }

    /// <summary>Opens what <see cref="Encrypt"/> made; false for a wrong key or altered bytes.</summary>
    public static bool TryDecrypt(PrimeOrderGroup group, Scalar dataKey, string applicationIdHex, string dataId, ReadOnlySpan<byte> dealing, ReadOnlySpan<byte> ciphertext, out byte[] value)
    {
        value = [];
        if (ciphertext.Length < NonceLength + TagLength)
        {
            return false;
        }

        var length = ciphertext.Length - NonceLength - TagLength;
        var plain = new byte[length];
        Span<byte> key = stackalloc byte[32];
        DeriveKey(group, dataKey, applicationIdHex, dataId, key);
        try
        {
            using var aead = new ChaCha20Poly1305(key);
            aead.Decrypt(ciphertext[..NonceLength], ciphertext.Slice(NonceLength, length), ciphertext[(NonceLength + length)..], plain, Associated(applicationIdHex, dataId, dealing));
            value = plain;
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// The value from shares of one sharing (server id to share): every combination of t + 1 of them in
    /// turn, until one gives a key that opens the ciphertext. Also returns the servers whose shares were
    /// used, so the caller may name the ones left out.
    /// </summary>
    public static bool TryReconstruct(
        PrimeOrderGroup group, int threshold, IReadOnlyDictionary<int, Scalar> shares, string applicationIdHex, string dataId,
        ReadOnlySpan<byte> dealing, ReadOnlySpan<byte> ciphertext, out byte[] value, out int[] used)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(shares);
        value = [];
        used = [];
        var servers = shares.Keys.Order().ToArray();
        if (servers.Length < threshold + 1)
        {
            return false;
        }

        var chosen = Enumerable.Range(0, threshold + 1).ToArray();
        var xs = new Scalar[threshold + 1];
        for (var tried = 0; tried < MaxCombinations; tried++)
        {
            for (var i = 0; i < chosen.Length; i++)
            {
                xs[i] = group.FromUInt64((ulong)servers[chosen[i]]);
            }

            var coefficients = Lagrange.Coefficients(group, xs, group.Zero);
            var key = group.Zero;
            for (var i = 0; i < chosen.Length; i++)
            {
                key = group.Add(key, group.Multiply(coefficients[i], shares[servers[chosen[i]]]));
            }

            if (TryDecrypt(group, key, applicationIdHex, dataId, dealing, ciphertext, out value))
            {
                used = chosen.Select(i => servers[i]).ToArray();
                return true;
            }

            if (!NextCombination(chosen, servers.Length))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>HPKE info of a dealt share the client seals to a server's period key.</summary>
    public static byte[] DealtShareInfo(string networkHex, string handle, ReadOnlySpan<byte> dealing) =>
        Encoding.UTF8.GetBytes($"proactive/dealt-share/v1\n{networkHex}\n{handle}\n{Convert.ToHexStringLower(dealing)}");

    /// <summary>HPKE info of many dealt shares sealed together (bulk import): the plaintext is (16-byte dealing || scalar) repeated.</summary>
    public static byte[] DealtSharesInfo(string networkHex, string handle) =>
        Encoding.UTF8.GetBytes($"proactive/dealt-shares/v1\n{networkHex}\n{handle}");

    /// <summary>Most shares one bulk dealing carries.</summary>
    public const int MaxSharesPerBulk = 16384;

    /// <summary>HPKE info of a joint secret's share a server seals to the owner's one-time key.</summary>
    public static byte[] JointSecretShareInfo(string networkHex, string handle, string id, int server, string sharing) =>
        Encoding.UTF8.GetBytes($"proactive/joint-secret-share/v1\n{networkHex}\n{handle}\n{id}\n{server}\n{sharing}");

    /// <summary>HPKE info of a share a server seals to the client's one-time key.</summary>
    public static byte[] ReleasedShareInfo(string networkHex, string handle, string dataId, int server, string sharing) =>
        Encoding.UTF8.GetBytes($"proactive/released-share/v1\n{networkHex}\n{handle}\n{dataId}\n{server}\n{sharing}");

    private static bool NextCombination(int[] chosen, int n)
    {
        var k = chosen.Length;
        for (var i = k - 1; i >= 0; i--)
        {
            if (chosen[i] < n - k + i)
            {
                chosen[i]++;
                for (var j = i + 1; j < k; j++)
                {
                    chosen[j] = chosen[j - 1] + 1;
                }

                return true;
            }
        }

        return false;
    }

    private static void DeriveKey(PrimeOrderGroup group, Scalar dataKey, string applicationIdHex, string dataId, Span<byte> key)
    {
        Span<byte> encoded = stackalloc byte[group.ScalarLength];
        group.EncodeScalar(dataKey, encoded);
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, encoded, key, "proactive/secret-value/v1"u8, Encoding.UTF8.GetBytes(applicationIdHex + "\n" + dataId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encoded);
        }
    }

    private static byte[] Associated(string applicationIdHex, string dataId, ReadOnlySpan<byte> dealing) =>
        Encoding.UTF8.GetBytes($"proactive/secret-value/v1\n{applicationIdHex}\n{dataId}\n{Convert.ToHexStringLower(dealing)}");
}
