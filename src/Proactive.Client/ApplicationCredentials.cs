// References: toolkit (seed 001) section 5.1 (registration gives the application a handle it appends to
// every request); docs/API.md "Applications: authentication"; STYLE.md rule 6 (secrets wiped, files
// owner-only).
using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Services;

namespace Proactive.Client;

/// <summary>A credentials file that cannot be used; the message says why and what to do.</summary>
public sealed class ApplicationCredentialsException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// One registered application instance as its client holds it: the handle, the application id, the
/// instance number, the name and the Ed25519 key every request is signed with. The private key never
/// leaves the client: the servers know only its public half.
/// </summary>
/// <remarks>
/// <para><b>File</b> (<see cref="Save"/>, <see cref="Load"/>): one JSON object,
/// <c>{ "format": "proactive-credentials-v1", "handle", "applicationId" (32 hex), "instance", "name",
/// "publicKey" (64 hex), "privateKey" (64 hex: the RFC 8032 seed) }</c>, created owner-only (0600) and
/// refused on load when group or others may read it, as ssh refuses a private key.</para>
/// <para>Security: owns the private key and wipes it on <see cref="Dispose"/>; the file's bytes are
/// wiped after reading and writing; <see cref="ToString"/> never prints the key.</para>
/// </remarks>
public sealed class ApplicationCredentials : IDisposable
{
    /// <summary>The format tag, first in the file.</summary>
    public const string FormatTag = "proactive-credentials-v1";

    /// <summary>Where the CLI keeps the credentials of the application in the working directory.</summary>
    public const string DefaultPath = ".proactive/credentials.json";

    /// <summary>A credentials file is a few hundred bytes; a much larger one is not one.</summary>
    private const int MaxFileLength = 16 * 1024;

    private static readonly string[] Members = ["format", "handle", "applicationId", "instance", "name", "publicKey", "privateKey"];

    private readonly byte[] _applicationId;
    private readonly Ed25519PrivateKey _key;

    /// <summary>Credentials of an instance whose handle registration returned; takes ownership of <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">The handle is not <see cref="FormatHandle"/> of the id and instance, or a field is out of range.</exception>
    public ApplicationCredentials(string handle, ReadOnlySpan<byte> applicationId, int instance, string name, Ed25519PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegative(instance);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(instance, ushort.MaxValue);
        if (applicationId.Length != ApplicationRandomness.ApplicationIdLength)
        {
            throw new ArgumentException($"An application id is {ApplicationRandomness.ApplicationIdLength} bytes.", nameof(applicationId));
        }

        if (handle != FormatHandle(applicationId, instance))
        {
            throw new ArgumentException($"The handle of application {Convert.ToHexStringLower(applicationId)} instance {instance} is {FormatHandle(applicationId, instance)}, not '{handle}'.", nameof(handle));
        }

        Handle = handle;
        _applicationId = applicationId.ToArray();
        Instance = instance;
        Name = name;
        _key = key;
    }

    /// <summary>The handle every request carries: <c>app_&lt;32 hex&gt;_&lt;instance&gt;</c>.</summary>
    public string Handle { get; }

    /// <summary>The 16-byte application id.</summary>
    public ReadOnlySpan<byte> ApplicationId => _applicationId;

    /// <summary>0 for a centralized application, the server id 1..n for an instance of a distributed one.</summary>
    public int Instance { get; }

    /// <summary>The application's name.</summary>
    public string Name { get; }

    /// <summary>The public half of the request key, registered with the network.</summary>
    public Ed25519PublicKey PublicKey => _key.PublicKey;

    /// <summary>The request key (signs requests; never leaves the client).</summary>
    internal Ed25519PrivateKey Key => _key;

    /// <summary>The handle of <paramref name="instance"/> of application <paramref name="applicationId"/>.</summary>
    public static string FormatHandle(ReadOnlySpan<byte> applicationId, int instance) =>
        $"app_{Convert.ToHexStringLower(applicationId)}_{instance.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Signs <paramref name="message"/> with the request key (Ed25519, RFC 8032).</summary>
    public byte[] Sign(ReadOnlySpan<byte> message) => _key.Sign(message);

    /// <summary>Reads credentials written by <see cref="Save"/>.</summary>
    /// <exception cref="ApplicationCredentialsException">Missing, unreadable, readable by others, or not a valid credentials file.</exception>
    public static ApplicationCredentials Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = SecretFile.Read(path, MaxFileLength, (message, inner) => new ApplicationCredentialsException(message, inner));
        try
        {
            return Parse(bytes, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Writes the credentials to <paramref name="path"/>, owner-only (0600) from the moment the file
    /// exists, atomically (a temporary file renamed over it); creates the folder (0700) if missing.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or it cannot be written.</exception>
    public void Save(string path, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            WriteJson(buffer);
            SecretFile.Write(path, buffer.WrittenSpan, overwrite);
        }
        finally
        {
            buffer.Clear(); // zeroes what was written: the seed's hex digits
        }
    }

    /// <summary>Wipes the private key.</summary>
    public void Dispose() => _key.Dispose();

    public override string ToString() => $"ApplicationCredentials({Handle}, {Name}, <redacted>)";

    private void WriteJson(IBufferWriter<byte> output)
    {
        Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
        Span<byte> seedHex = stackalloc byte[Ed25519PrivateKey.SeedLength * 2];
        try
        {
            _key.WriteSeedTo(seed);
            SecretFile.ToLowerHexUtf8(seed, seedHex);
            using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            writer.WriteString("format", FormatTag);
            writer.WriteString("handle", Handle);
            writer.WriteString("applicationId", Convert.ToHexStringLower(_applicationId));
            writer.WriteNumber("instance", Instance);
            writer.WriteString("name", Name);
            writer.WriteString("publicKey", Convert.ToHexStringLower(PublicKey.Bytes));
            writer.WriteString("privateKey"u8, seedHex);
            writer.WriteEndObject();
            writer.Flush();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(seedHex);
        }
    }

    /// <summary>Strict: one object, exactly the documented members, each once and of its type, the keys consistent.</summary>
    private static ApplicationCredentials Parse(ReadOnlySpan<byte> json, string path)
    {
        ApplicationCredentialsException Invalid(string why) => new($"{path} is not a valid credentials file: {why}.");

        string? format = null, handle = null, applicationId = null, name = null, publicKey = null;
        int? instance = null;
        Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
        var hasSeed = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 4 });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Invalid("it is not a JSON object");
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var member = reader.GetString()!;
                    if (!Members.Contains(member, StringComparer.Ordinal))
                    {
                        throw Invalid($"unknown member '{member}'");
                    }

                    if (!seen.Add(member))
                    {
                        throw Invalid($"'{member}' is given twice");
                    }

                    reader.Read();
                    if (member == "instance")
                    {
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var number))
                        {
                            throw Invalid("'instance' must be a whole number");
                        }

                        instance = number;
                        continue;
                    }

                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw Invalid($"'{member}' must be a string");
                    }

                    if (member == "privateKey")
                    {
                        // Decoded from the raw bytes: the seed never becomes an immutable string.
                        if (reader.ValueIsEscaped || !SecretFile.TryFromLowerHexUtf8(reader.ValueSpan, seed))
                        {
                            throw Invalid($"'privateKey' must be {Ed25519PrivateKey.SeedLength * 2} lowercase hex digits");
                        }

                        hasSeed = true;
                        continue;
                    }

                    var text = reader.GetString()!;
                    switch (member)
                    {
                        case "format": format = text; break;
                        case "handle": handle = text; break;
                        case "applicationId": applicationId = text; break;
                        case "name": name = text; break;
                        default: publicKey = text; break;
                    }
                }

                if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                {
                    throw Invalid("it has something after its object");
                }
            }
            catch (JsonException e)
            {
                throw new ApplicationCredentialsException($"{path} is not valid JSON (line {e.LineNumber + 1}).", e);
            }

            if (format != FormatTag)
            {
                throw Invalid(format is null ? "no 'format'" : $"its format is '{format}', not '{FormatTag}'");
            }

            var missing = Members.Where(m => !seen.Contains(m)).ToList();
            if (missing.Count > 0)
            {
                throw Invalid($"missing {string.Join(", ", missing.Select(m => $"'{m}'"))}");
            }

            byte[] id;
            try
            {
                id = Convert.FromHexString(applicationId!);
            }
            catch (FormatException)
            {
                throw Invalid("'applicationId' is not hex");
            }

            if (id.Length != ApplicationRandomness.ApplicationIdLength || applicationId != Convert.ToHexStringLower(id))
            {
                throw Invalid($"'applicationId' must be {ApplicationRandomness.ApplicationIdLength * 2} lowercase hex digits");
            }

            if (instance is not (>= 0 and <= ushort.MaxValue) || handle != FormatHandle(id, instance.Value))
            {
                throw Invalid($"'handle' and 'instance' do not name instance {instance} of application {applicationId} ({FormatHandle(id, Math.Max(0, instance ?? 0))})");
            }

            if (!hasSeed)
            {
                throw Invalid("no 'privateKey'");
            }

            var key = Ed25519PrivateKey.FromSeed(seed);
            if (publicKey != Convert.ToHexStringLower(key.PublicKey.Bytes))
            {
                key.Dispose();
                throw Invalid("'publicKey' is not the public half of 'privateKey'");
            }

            return new ApplicationCredentials(handle!, id, instance.Value, name!, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>New credentials for <paramref name="instance"/> of <paramref name="applicationId"/> with a fresh key, before registration sends its public half.</summary>
    public static ApplicationCredentials Create(ReadOnlySpan<byte> applicationId, int instance, string name, IRandomSource? random = null) =>
        new(FormatHandle(applicationId, instance), applicationId, instance, name, Ed25519PrivateKey.Generate(random ?? SystemRandomSource.Instance));

    /// <summary>
    /// New credentials for instance <paramref name="instance"/> (a server id) of the distributed application
    /// <paramref name="name"/>, with a fresh key: what an instance that registers by certificate makes first,
    /// so that its CA can certify the public half (<see cref="CertificateAuthority.Issue"/>).
    /// </summary>
    public static ApplicationCredentials CreateInstance(string name, int instance, IRandomSource? random = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(instance, 1);
        return Create(Protocols.Application.ApplicationState.DistributedId(name), instance, name, random);
    }
}
