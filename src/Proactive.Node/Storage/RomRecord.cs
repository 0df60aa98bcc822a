// References: toolkit (seed 001) section 3.2 ("ROM data") and section 4 (V_start in ROM, S_start on
// erasable disk); patent (seed 000) claims 9-10; docs/BRIEF.md section 4 ("Data").
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;

namespace Proactive.Node.Storage;

/// <summary>
/// What a server keeps in ROM: its id and its start public key V_start, the one value a recovering
/// server trusts without the network (it verifies its M_i = Sign_S_start(V_cert, C) with it, toolkit
/// Table 2). Written once at provisioning; the network id is not here because it does not exist yet
/// at manufacturing time: it is derived from C, which the server learns through M_i.
/// </summary>
/// <remarks>
/// The file is JSON so that an operator can read it (<c>cat rom.json</c>):
/// <c>{"format":"proactive-rom-v1","serverId":3,"startPublicKey":"&lt;64 hex digits&gt;"}</c>.
/// Parsing is strict: unknown or missing fields, a wrong format tag, a key that is not a valid
/// Ed25519 point, a server id outside 1..255 are all rejected.
/// </remarks>
public sealed class RomRecord
{
    /// <summary>The format tag, first in the file.</summary>
    public const string FormatTag = "proactive-rom-v1";

    /// <summary>A ROM file is a few hundred bytes; anything much larger is not one.</summary>
    public const int MaxFileLength = 4096;

    public RomRecord(int serverId, Ed25519PublicKey startPublicKey)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(serverId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serverId, ClusterParameters.MaxServers);
        ArgumentNullException.ThrowIfNull(startPublicKey);
        ServerId = serverId;
        StartPublicKey = startPublicKey;
    }

    /// <summary>This server's id in 1..n.</summary>
    public int ServerId { get; }

    /// <summary>V_start.</summary>
    public Ed25519PublicKey StartPublicKey { get; }

    /// <summary>The file's bytes: one line of JSON, fields in a fixed order.</summary>
    public byte[] Encode()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatTag);
            writer.WriteNumber("serverId", ServerId);
            writer.WriteString("startPublicKey", StartKeyText.Format(StartPublicKey));
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Parses a ROM file's bytes; false with the reason for anything but a valid record (a tampered or truncated ROM must not throw).</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out RomRecord? rom, [NotNullWhen(false)] out string? error)
    {
        rom = null;
        if (utf8Json.Length > MaxFileLength)
        {
            error = $"the ROM file is {utf8Json.Length} bytes; a ROM record is at most {MaxFileLength}.";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray());
        }
        catch (JsonException e)
        {
            error = $"not valid JSON ({e.Message}).";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "the ROM record must be a JSON object.";
                return false;
            }

            string? format = null;
            int? serverId = null;
            string? key = null;
            try
            {
                foreach (var property in root.EnumerateObject())
                {
                    switch (property.Name)
                    {
                        case "format" when property.Value.ValueKind == JsonValueKind.String && format is null:
                            format = property.Value.GetString();
                            break;
                        case "serverId" when property.Value.ValueKind == JsonValueKind.Number && serverId is null:
                            serverId = property.Value.TryGetInt32(out var id) ? id : -1;
                            break;
                        case "startPublicKey" when property.Value.ValueKind == JsonValueKind.String && key is null:
                            key = property.Value.GetString();
                            break;
                        case "format" or "serverId" or "startPublicKey":
                            error = $"field '{property.Name}' is repeated or has the wrong type.";
                            return false;
                        default:
                            error = $"unknown field '{property.Name}'.";
                            return false;
                    }
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Strings that are not valid UTF-8 once unescaped (DecoderFallbackException is an ArgumentException).
                error = "the ROM file is not valid UTF-8 text.";
                return false;
            }

            if (format != FormatTag)
            {
                error = format is null ? $"missing field 'format' (expected \"{FormatTag}\")." : $"format is \"{format}\", this build reads \"{FormatTag}\".";
                return false;
            }

            if (serverId is not { } server || server < 1 || server > ClusterParameters.MaxServers)
            {
                error = serverId is null ? "missing field 'serverId'." : $"serverId must be between 1 and {ClusterParameters.MaxServers}.";
                return false;
            }

            if (key is null)
            {
                error = "missing field 'startPublicKey'.";
                return false;
            }

            if (!StartKeyText.TryParse(key, out var startKey))
            {
                error = $"startPublicKey is not a valid Ed25519 public key ({Ed25519PublicKey.Length * 2} hex digits).";
                return false;
            }

            rom = new RomRecord(server, startKey);
            error = null;
            return true;
        }
    }

    /// <summary>Reads the ROM file at <paramref name="path"/> through a read-only handle.</summary>
    /// <exception cref="NodeStoreException">The file is missing (<see cref="StoreError.RomMissing"/>), unreadable or invalid (<see cref="StoreError.RomInvalid"/>).</exception>
    public static RomRecord Read(string path)
    {
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (file.Length > MaxFileLength)
            {
                throw new NodeStoreException(StoreError.RomInvalid, path, $"The ROM {path} is {file.Length} bytes; a ROM record is at most {MaxFileLength}.");
            }

            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NodeStoreException(StoreError.RomMissing, path, $"There is no ROM at {path}: this server was not provisioned (run 'proactive provision').", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeStoreException(StoreError.Io, path, $"The ROM {path} cannot be read: {e.Message}", e);
        }

        return TryParse(bytes, out var rom, out var error)
            ? rom
            : throw new NodeStoreException(StoreError.RomInvalid, path, $"The ROM {path} is not valid: {error}");
    }

    public override string ToString() => $"server {ServerId}, V_start {StartKeyText.Format(StartPublicKey)}";
}
