// References: RFC 8259 (JSON); docs/API.md "Conventions" (strict request bodies: unknown members are
// refused, so a misspelt member never silently takes its default); STYLE.md rule 7 (unknown fields rejected).
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Proactive.Node.Api;

/// <summary>
/// Strict parsing of JSON request bodies with source-generated metadata: the body must be one JSON
/// object, every member known, none twice, every required one present, each of the right type.
/// Every failure is a 400 problem that names the member, never an exception and never a .NET type name.
/// </summary>
/// <remarks>
/// Syntax is checked first (<see cref="ApiProblems.MalformedJson"/>), then the top-level members
/// against the type's metadata (unknown, repeated, missing: <see cref="ApiProblems.InvalidRequest"/>),
/// then the values by deserializing; a value of the wrong type is reported with the member's path. The
/// serializer's own messages are not passed on: they name internal types.
/// </remarks>
internal static class JsonRequest
{
    /// <summary>Deepest nesting a request may have; the bodies are shallow, a deep one is an attack on the parser.</summary>
    public const int MaxDepth = 16;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    /// <summary>Parses <paramref name="body"/> as a <typeparamref name="T"/>, or says what is wrong with it.</summary>
    public static bool TryParse<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> typeInfo, [NotNullWhen(true)] out T? value, [NotNullWhen(false)] out ApiError? error)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        value = null;
        if (!TryCheckSyntax(body, out error) || !TryCheckMembers(body, typeInfo, out error))
        {
            return false;
        }

        try
        {
            value = JsonSerializer.Deserialize(body, typeInfo);
        }
        catch (JsonException e)
        {
            error = new ApiError(ApiProblems.InvalidRequest, DescribeValueError(body, typeInfo, e.Path));
            return false;
        }

        if (value is null)
        {
            error = new ApiError(ApiProblems.InvalidRequest, "The body must be a JSON object, not null.");
            return false;
        }

        return true;
    }

    /// <summary>Whether the body is one well-formed JSON document, not empty, nested at most <see cref="MaxDepth"/> levels (400 <c>malformed-json</c> otherwise).</summary>
    internal static bool TryCheckSyntax(ReadOnlySpan<byte> body, [NotNullWhen(false)] out ApiError? error)
    {
        error = null;
        if (body.IsEmpty)
        {
            error = new ApiError(ApiProblems.MalformedJson, "The body is empty; this route takes a JSON object.");
            return false;
        }

        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : string.Empty;
            var why = reader.CurrentDepth >= MaxDepth ? $"nested deeper than {MaxDepth} levels" : "not valid JSON";
            error = new ApiError(ApiProblems.MalformedJson, $"The body is {why}{where}.");
            return false;
        }

        return true;
    }

    private static bool TryCheckMembers<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> typeInfo, [NotNullWhen(false)] out ApiError? error)
    {
        error = null;
        var reader = new Utf8JsonReader(body, ReaderOptions);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = new ApiError(ApiProblems.InvalidRequest, $"The body must be a JSON object, not {Describe(reader.TokenType)}.");
            return false;
        }

        var known = typeInfo.Properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (!known.ContainsKey(name))
            {
                error = new ApiError(ApiProblems.InvalidRequest, $"Unknown member '{Printable(name)}'; the members are {List(known.Keys)}.");
                return false;
            }

            if (!seen.Add(name))
            {
                error = new ApiError(ApiProblems.InvalidRequest, $"The member '{name}' is given twice.");
                return false;
            }

            reader.Read();
            reader.Skip();
        }

        var missing = known.Values.Where(p => IsRequired(p) && !seen.Contains(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
        {
            error = new ApiError(ApiProblems.InvalidRequest, $"Missing member{(missing.Count > 1 ? "s" : "")} {List(missing)}.");
            return false;
        }

        return true;
    }

    private static bool IsRequired(JsonPropertyInfo property) =>
        property.IsRequired || property.AssociatedParameter is { HasDefaultValue: false };

    /// <summary>A value the serializer refused: which member, and what it must be.</summary>
    private static string DescribeValueError<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> typeInfo, string? path)
    {
        var member = path is null || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        if (member is null)
        {
            return "The body does not match this route's request.";
        }

        var top = member.Split('.', '[')[0];
        var property = typeInfo.Properties.FirstOrDefault(p => p.Name == top);
        if (property is not null && member == top && IsNullAt(body, top))
        {
            return $"'{member}' must not be null.";
        }

        var expected = property is not null && member == top ? Expected(property.PropertyType) : "of the documented type";
        return $"'{member}' must be {expected}.";
    }

    private static bool IsNullAt(ReadOnlySpan<byte> body, string member)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == member)
            {
                return reader.TokenType == JsonTokenType.Null;
            }

            reader.Skip();
        }

        return false;
    }

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) => $"a whole number from {int.MinValue} to {int.MaxValue}",
            _ when type == typeof(long) => $"a whole number from {long.MinValue} to {long.MaxValue}",
            _ when type == typeof(uint) => $"a whole number from 0 to {uint.MaxValue}",
            _ when type == typeof(ulong) => $"a whole number from 0 to {ulong.MaxValue}",
            _ when type == typeof(DateTimeOffset) => "an ISO 8601 time with an offset",
            _ when type == typeof(byte[]) => "a base64 string",
            _ when type.IsArray || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)) => "an array",
            _ => "an object",
        };
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static string List(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    /// <summary>A client's member name, cut short and without control characters, fit to quote in a detail.</summary>
    private static string Printable(string name)
    {
        var cleaned = new string(name.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return name.Length > 64 ? cleaned + "..." : cleaned;
    }
}
