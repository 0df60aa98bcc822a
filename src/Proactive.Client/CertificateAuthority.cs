// References: toolkit (seed 001) section 5.1, option 2 and Figure 3 (a Certificate Authority common to the
// application's clients issues each Client_i a one-time certificate Cert_CA(Client_PubKey, name, i,
// server_id, ...)); RFC 8032 (Ed25519); STYLE.md rule 6 (secrets wiped, files owner-only).
using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Envelopes;

namespace Proactive.Client;

/// <summary>A Certificate Authority key file that cannot be used; the message says why.</summary>
public sealed class CertificateAuthorityException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// The Certificate Authority of a distributed application that registers its instances by certificate: an
/// Ed25519 key whose public half the network fixes when the application's first instance registers, and
/// which issues each instance a one-time certificate for its own key (<see cref="ApplicationCertificate"/>).
/// It belongs to whoever runs the application, not to the network: no server ever sees its private key.
/// </summary>
/// <remarks>
/// <para><b>File</b> (<see cref="Save"/>, <see cref="Load"/>): <c>{ "format": "proactive-ca-v1", "publicKey"
/// (64 hex), "privateKey" (64 hex: the RFC 8032 seed) }</c>, owner-only (0600), refused when others may read it.</para>
/// <para>Security: owns the private key and wipes it on <see cref="Dispose"/>; <see cref="ToString"/> never prints it.</para>
/// </remarks>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>The format tag, first in the file.</summary>
    public const string FormatTag = "proactive-ca-v1";

    /// <summary>Where the CLI keeps the CA key in the working directory.</summary>
    public const string DefaultPath = ".proactive/ca.json";

    private const int MaxFileLength = 4 * 1024;

    private static readonly string[] Members = ["format", "publicKey", "privateKey"];

    private readonly Ed25519PrivateKey _key;

    private CertificateAuthority(Ed25519PrivateKey key) => _key = key;

    /// <summary>The CA's public key: the one the application is created with.</summary>
    public Ed25519PublicKey PublicKey => _key.PublicKey;

    /// <summary>A new CA with a fresh key.</summary>
    public static CertificateAuthority Create(IRandomSource? random = null) => new(Ed25519PrivateKey.Generate(random ?? SystemRandomSource.Instance));

    /// <summary>
    /// Issues instance <paramref name="instance"/> of <paramref name="name"/> its one-time certificate for
    /// <paramref name="instanceKey"/> (the instance's public key: <see cref="ApplicationCredentials.PublicKey"/>),
    /// for the network <paramref name="networkHex"/> (as <c>/v1/cluster</c> names it), valid from
    /// <paramref name="notBefore"/> to <paramref name="notAfter"/>, with a random serial. The instance
    /// registers at server <paramref name="instance"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A value no certificate may hold (an empty or too long name, an instance outside 1..65535, a window that ends before it starts, a network id that is not 32 hex digits).</exception>
    public ApplicationCertificate Issue(string networkHex, string name, int instance, Ed25519PublicKey instanceKey, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(networkHex);
        ArgumentNullException.ThrowIfNull(instanceKey);
        if (networkHex.Length != 2 * NetworkId.Length || !ProactiveClient.TryHex(networkHex, out var network))
        {
            throw new ArgumentException($"A network id is {2 * NetworkId.Length} lowercase hex digits.", nameof(networkHex));
        }

        var serial = new byte[ApplicationCertificate.SerialLength];
        RandomNumberGenerator.Fill(serial);
        return ApplicationCertificate.Issue(_key, NetworkId.FromBytes(network), name, instance, instance, instanceKey.Bytes, UnixMilliseconds(notBefore), UnixMilliseconds(notAfter), serial);
    }

    /// <summary>Reads a CA key written by <see cref="Save"/>.</summary>
    /// <exception cref="CertificateAuthorityException">Missing, unreadable, readable by others, or not a CA key file.</exception>
    public static CertificateAuthority Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = SecretFile.Read(path, MaxFileLength, (message, inner) => new CertificateAuthorityException(message, inner));
        try
        {
            return Parse(bytes, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Writes the CA key to <paramref name="path"/>, owner-only, atomically.</summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or it cannot be written.</exception>
    public void Save(string path, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var buffer = new ArrayBufferWriter<byte>(512);
        Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
        Span<byte> seedHex = stackalloc byte[Ed25519PrivateKey.SeedLength * 2];
        try
        {
            _key.WriteSeedTo(seed);
            SecretFile.ToLowerHexUtf8(seed, seedHex);
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteString("format", FormatTag);
                writer.WriteString("publicKey", Convert.ToHexStringLower(PublicKey.Bytes));
                writer.WriteString("privateKey"u8, seedHex);
                writer.WriteEndObject();
            }

            SecretFile.Write(path, buffer.WrittenSpan, overwrite);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(seedHex);
            buffer.Clear();
        }
    }

    /// <summary>Wipes the private key.</summary>
    public void Dispose() => _key.Dispose();

    public override string ToString() => $"CertificateAuthority({Convert.ToHexStringLower(PublicKey.Bytes)}, <redacted>)";

    private static ulong UnixMilliseconds(DateTimeOffset time) => (ulong)Math.Max(0, time.ToUnixTimeMilliseconds());

    /// <summary>Strict: one object, exactly the three members, each once, the keys consistent.</summary>
    private static CertificateAuthority Parse(ReadOnlySpan<byte> json, string path)
    {
        CertificateAuthorityException Invalid(string why) => new($"{path} is not a valid CA key file: {why}.");

        string? format = null, publicKey = null;
        Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            try
            {
                var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 2 });
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Invalid("it is not a JSON object");
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var member = reader.GetString()!;
                    if (!Members.Contains(member, StringComparer.Ordinal) || !seen.Add(member))
                    {
                        throw Invalid($"'{member}' is unknown or given twice");
                    }

                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        throw Invalid($"'{member}' must be a string");
                    }

                    if (member == "privateKey")
                    {
                        if (reader.ValueIsEscaped || !SecretFile.TryFromLowerHexUtf8(reader.ValueSpan, seed))
                        {
                            throw Invalid($"'privateKey' must be {Ed25519PrivateKey.SeedLength * 2} lowercase hex digits");
                        }
                    }
                    else if (member == "format")
                    {
                        format = reader.GetString();
                    }
                    else
                    {
                        publicKey = reader.GetString();
                    }
                }

                if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                {
                    throw Invalid("it has something after its object");
                }
            }
            catch (JsonException e)
            {
                throw new CertificateAuthorityException($"{path} is not valid JSON (line {e.LineNumber + 1}).", e);
            }

            if (format != FormatTag)
            {
                throw Invalid(format is null ? "no 'format'" : $"its format is '{format}', not '{FormatTag}'");
            }

            if (seen.Count != Members.Length)
            {
                throw Invalid($"missing {string.Join(", ", Members.Where(m => !seen.Contains(m)).Select(m => $"'{m}'"))}");
            }

            var key = Ed25519PrivateKey.FromSeed(seed);
            if (publicKey != Convert.ToHexStringLower(key.PublicKey.Bytes))
            {
                key.Dispose();
                throw Invalid("'publicKey' is not the public half of 'privateKey'");
            }

            return new CertificateAuthority(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }
}
