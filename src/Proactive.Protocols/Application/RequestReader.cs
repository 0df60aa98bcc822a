// References: docs/API.md "Conventions" (unknown members are refused, every error names the field).
using System.Text.Json;

namespace Proactive.Protocols.Application;

/// <summary>A request body that is valid JSON but not the shape its operation takes.</summary>
public sealed class RequestShapeException(string message) : Exception(message);

/// <summary>
/// Reads the members of one JSON object strictly: only the members the operation knows, each of the
/// right JSON type, once. A misspelt member is refused rather than ignored (an ignored 'until' would
/// release a secret early).
/// </summary>
internal readonly struct RequestReader
{
    private readonly JsonElement _root;

    public RequestReader(JsonElement root, params string[] known)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new RequestShapeException("The body must be a JSON object.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            if (!known.Contains(member.Name, StringComparer.Ordinal))
            {
                throw new RequestShapeException($"Unknown member '{member.Name}'; this operation takes {string.Join(", ", known)}.");
            }

            if (!seen.Add(member.Name))
            {
                throw new RequestShapeException($"The member '{member.Name}' is given twice.");
            }
        }

        _root = root;
    }

    /// <summary>Whether the member is there (and not null).</summary>
    public bool Has(string name) => _root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public string Text(string name, int minLength, int maxLength) =>
        OptionalText(name, minLength, maxLength) ?? throw new RequestShapeException($"'{name}' is required.");

    public string? OptionalText(string name, int minLength, int maxLength)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new RequestShapeException($"'{name}' must be a string.");
        }

        var text = value.GetString()!;
        if (text.Length < minLength || System.Text.Encoding.UTF8.GetByteCount(text) > maxLength)
        {
            throw new RequestShapeException($"'{name}' must be {minLength} to {maxLength} bytes long.");
        }

        return text;
    }

    public byte[] Hex(string name, int length) =>
        OptionalHex(name, length) ?? throw new RequestShapeException($"'{name}' is required.");

    public byte[]? OptionalHex(string name, int length)
    {
        var text = OptionalText(name, 0, 2 * length);
        if (text is null)
        {
            return null;
        }

        return ApplicationState.TryHex(text, length, out var bytes)
            ? bytes
            : throw new RequestShapeException($"'{name}' must be {2 * length} lowercase hex digits ({length} bytes).");
    }

    /// <summary>A byte string of variable length (a certificate): lowercase hex of 1 to <paramref name="maxLength"/> bytes, or null when absent.</summary>
    public byte[]? OptionalVariableHex(string name, int maxLength)
    {
        var text = OptionalText(name, 2, 2 * maxLength);
        if (text is null)
        {
            return null;
        }

        return text.Length % 2 == 0 && ApplicationState.TryHex(text, text.Length / 2, out var bytes)
            ? bytes
            : throw new RequestShapeException($"'{name}' must be lowercase hex of 1 to {maxLength} bytes.");
    }

    public byte[] Base64(string name, int maxLength)
    {
        var text = Text(name, 0, ((maxLength + 2) / 3 * 4) + 4);
        var bytes = new byte[(text.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(text, bytes, out var written) || written > maxLength)
        {
            throw new RequestShapeException($"'{name}' must be standard base64 of at most {maxLength} bytes.");
        }

        return bytes[..written];
    }

    /// <summary>A non-empty array of at most <paramref name="maxCount"/> base64 strings, each of at most <paramref name="maxLength"/> bytes.</summary>
    public IReadOnlyList<byte[]> Base64List(string name, int maxCount, int maxLength)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw new RequestShapeException($"'{name}' is required: an array of base64 strings.");
        }

        var count = value.GetArrayLength();
        if (count < 1 || count > maxCount)
        {
            throw new RequestShapeException($"'{name}' must hold 1 to {maxCount} entries.");
        }

        var list = new List<byte[]>(count);
        foreach (var item in value.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new RequestShapeException($"Every entry of '{name}' must be a base64 string.");
            var bytes = new byte[(text.Length / 4 * 3) + 3];
            if (text.Length > ((maxLength + 2) / 3 * 4) + 4 || !Convert.TryFromBase64String(text, bytes, out var written) || written > maxLength)
            {
                throw new RequestShapeException($"Every entry of '{name}' must be standard base64 of at most {maxLength} bytes.");
            }

            list.Add(bytes[..written]);
        }

        return list;
    }

    public ulong? OptionalNumber(string name)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var number)
            ? number
            : throw new RequestShapeException($"'{name}' must be a whole number from 0 to {ulong.MaxValue}.");
    }
}
