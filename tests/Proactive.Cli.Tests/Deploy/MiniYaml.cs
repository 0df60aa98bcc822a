using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Proactive.Cli.Tests.Deploy;

/// <summary>
/// Reads the block-style YAML subset the manifests in deploy/k8s are written in, into JSON nodes with
/// every scalar a string (like PyYAML's BaseLoader, which the tests compare it with when python3 has
/// PyYAML): mappings, sequences, plain and quoted scalars, literal blocks (<c>|</c>, <c>|-</c>), comments,
/// <c>{}</c> and <c>[]</c>, several documents. Anything else (flow collections with content, folded
/// blocks, anchors, tags) is a <see cref="FormatException"/> naming the line, so a manifest that grows
/// beyond the subset fails the tests instead of being misread. No NuGet YAML package is needed.
/// </summary>
internal static class MiniYaml
{
    /// <summary>Every document of <paramref name="text"/> (empty documents are left out).</summary>
    internal static List<JsonNode?> LoadAll(string text)
    {
        var documents = new List<JsonNode?>();
        var current = new List<string>();
        var first = 1;
        var number = 0;
        foreach (var line in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            number++;
            if (line == "---" || line.StartsWith("--- ", StringComparison.Ordinal))
            {
                Add();
                first = number + 1;
                continue;
            }

            current.Add(line);
        }

        Add();
        return documents;

        void Add()
        {
            var node = new Parser([.. current], first).ParseDocument();
            if (node is not null)
            {
                documents.Add(node);
            }

            current.Clear();
        }
    }

    private sealed class Parser(string[] lines, int firstLineNumber)
    {
        private readonly string[] _lines = lines;
        private int _position;

        public JsonNode? ParseDocument()
        {
            var node = ParseBlock(0);
            SkipBlank();
            if (_position < _lines.Length)
            {
                throw Error("unexpected content after the document's top-level node");
            }

            return node;
        }

        private JsonNode? ParseBlock(int minimumIndent)
        {
            SkipBlank();
            if (_position >= _lines.Length)
            {
                return null;
            }

            var line = _lines[_position];
            var indent = Indent(line);
            if (indent < minimumIndent)
            {
                return null;
            }

            var content = line[indent..];
            if (IsSequenceItem(content))
            {
                return ParseSequence(indent);
            }

            if (TrySplitKey(content, out _, out _))
            {
                return ParseMapping(indent);
            }

            _position++;
            return ParseValue(content, indent - 1);
        }

        private JsonArray ParseSequence(int indent)
        {
            var items = new JsonArray();
            while (Next(indent) is { } content && IsSequenceItem(content))
            {
                var rest = content == "-" ? string.Empty : content[2..];
                var restIndent = indent + 2;
                while (rest.StartsWith(' '))
                {
                    rest = rest[1..];
                    restIndent++;
                }

                if (StripComment(rest).Length == 0)
                {
                    _position++;
                    items.Add(ParseBlock(indent + 1) ?? JsonValue.Create(string.Empty));
                }
                else if (TrySplitKey(rest, out _, out _))
                {
                    // "- key: value" starts a mapping whose keys sit where "key" does.
                    _lines[_position] = new string(' ', restIndent) + rest;
                    items.Add(ParseMapping(restIndent));
                }
                else
                {
                    _position++;
                    items.Add(ParseValue(rest, indent));
                }
            }

            return items;
        }

        private JsonObject ParseMapping(int indent)
        {
            var map = new JsonObject();
            while (Next(indent) is { } content && !IsSequenceItem(content))
            {
                if (!TrySplitKey(content, out var key, out var value))
                {
                    throw Error($"expected 'key: value' at indentation {indent}");
                }

                if (map.ContainsKey(key))
                {
                    throw Error($"the key '{key}' is repeated");
                }

                _position++;
                JsonNode? child;
                if (StripComment(value).Length > 0)
                {
                    child = ParseValue(value, indent);
                }
                else
                {
                    SkipBlank();
                    var nextIndent = _position < _lines.Length ? Indent(_lines[_position]) : -1;
                    child = nextIndent > indent ? ParseBlock(indent + 1)
                        : nextIndent == indent && IsSequenceItem(_lines[_position][indent..]) ? ParseSequence(indent)
                        : null;
                }

                map[key] = child ?? JsonValue.Create(string.Empty);
            }

            SkipBlank();
            if (_position < _lines.Length && Indent(_lines[_position]) > indent)
            {
                throw Error("unexpected indentation");
            }

            return map;
        }

        /// <summary>The content of the next meaningful line when it is at exactly <paramref name="indent"/>.</summary>
        private string? Next(int indent)
        {
            SkipBlank();
            if (_position >= _lines.Length)
            {
                return null;
            }

            var line = _lines[_position];
            var lineIndent = Indent(line);
            if (lineIndent > indent)
            {
                throw Error("unexpected indentation");
            }

            return lineIndent == indent ? line[indent..] : null;
        }

        private JsonNode ParseValue(string text, int parentIndent)
        {
            var value = StripComment(text);
            if (value.StartsWith('|'))
            {
                return JsonValue.Create(LiteralBlock(value, parentIndent));
            }

            if (value is "{}")
            {
                return new JsonObject();
            }

            if (value is "[]")
            {
                return new JsonArray();
            }

            if (value[0] is '{' or '[' or '>' or '&' or '*' or '!' or '%' or '@' or '`')
            {
                throw Error($"'{value}' is outside the YAML subset the manifests use (block style, no anchors or tags)");
            }

            return JsonValue.Create(value[0] switch
            {
                '\'' => SingleQuoted(value),
                '"' => DoubleQuoted(value),
                _ => value,
            });
        }

        private string LiteralBlock(string header, int parentIndent)
        {
            var strip = header switch
            {
                "|" => false,
                "|-" => true,
                _ => throw Error($"only '|' and '|-' literal blocks are read, not '{header}'"),
            };
            var lines = new List<string>();
            var contentLines = 0;
            var blockIndent = -1;
            while (_position < _lines.Length)
            {
                var line = _lines[_position];
                if (line.Trim().Length == 0)
                {
                    lines.Add(string.Empty);
                    _position++;
                    continue;
                }

                var indent = Indent(line);
                if (indent <= parentIndent || (blockIndent >= 0 && indent < blockIndent))
                {
                    break;
                }

                blockIndent = blockIndent < 0 ? indent : blockIndent;
                lines.Add(line[blockIndent..]);
                contentLines = lines.Count;
                _position++;
            }

            // Blank lines after the last content line are chomped ('|' keeps one line break, '|-' none).
            var body = string.Join('\n', lines.Take(contentLines));
            return strip || body.Length == 0 ? body : body + "\n";
        }

        private void SkipBlank()
        {
            while (_position < _lines.Length && StripComment(_lines[_position].TrimStart()).Length == 0)
            {
                _position++;
            }
        }

        private FormatException Error(string message) =>
            new($"YAML line {(firstLineNumber + _position).ToString(CultureInfo.InvariantCulture)}: {message}");

        private static int Indent(string line)
        {
            var indent = 0;
            while (indent < line.Length && line[indent] == ' ')
            {
                indent++;
            }

            if (indent < line.Length && line[indent] == '\t')
            {
                throw new FormatException("YAML: tabs do not indent");
            }

            return indent;
        }

        private static bool IsSequenceItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

        /// <summary>Splits "key: value" or "key:" (plain or quoted key); false for a scalar.</summary>
        private static bool TrySplitKey(string content, out string key, out string value)
        {
            key = string.Empty;
            value = string.Empty;
            if (content.Length == 0 || content[0] is '#' or '{' or '[' or '|')
            {
                return false;
            }

            var end = content[0] is '"' or '\'' ? QuotedEnd(content) : 0;
            if (end < 0)
            {
                return false;
            }

            for (var i = end; i < content.Length; i++)
            {
                if (content[i] == '#' && i > 0 && content[i - 1] == ' ')
                {
                    return false;
                }

                if (content[i] == ':' && (i + 1 == content.Length || content[i + 1] == ' '))
                {
                    var rawKey = content[..i].TrimEnd();
                    key = rawKey[0] switch
                    {
                        '"' => DoubleQuoted(rawKey),
                        '\'' => SingleQuoted(rawKey),
                        _ => rawKey,
                    };
                    value = i + 1 < content.Length ? content[(i + 2)..] : string.Empty;
                    return true;
                }
            }

            return false;
        }

        private static int QuotedEnd(string content)
        {
            var quote = content[0];
            for (var i = 1; i < content.Length; i++)
            {
                if (quote == '"' && content[i] == '\\')
                {
                    i++;
                }
                else if (content[i] == quote)
                {
                    if (quote == '\'' && i + 1 < content.Length && content[i + 1] == '\'')
                    {
                        i++;
                        continue;
                    }

                    return i + 1;
                }
            }

            return -1;
        }

        /// <summary>The text without a trailing comment (" #..." outside quotes) and surrounding spaces.</summary>
        private static string StripComment(string text)
        {
            var trimmed = text.Trim();
            if (trimmed.StartsWith('#'))
            {
                return string.Empty;
            }

            if (trimmed.Length > 0 && trimmed[0] is '"' or '\'')
            {
                var end = QuotedEnd(trimmed);
                if (end > 0)
                {
                    var after = trimmed[end..].Trim();
                    return after.Length == 0 || after.StartsWith('#') ? trimmed[..end] : trimmed;
                }
            }

            var hash = trimmed.IndexOf(" #", StringComparison.Ordinal);
            return hash >= 0 ? trimmed[..hash].TrimEnd() : trimmed;
        }

        private static string SingleQuoted(string text)
        {
            if (text.Length < 2 || text[^1] != '\'')
            {
                throw new FormatException($"YAML: unterminated quoted scalar {text}");
            }

            return text[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        private static string DoubleQuoted(string text)
        {
            if (text.Length < 2 || text[^1] != '"')
            {
                throw new FormatException($"YAML: unterminated quoted scalar {text}");
            }

            var builder = new StringBuilder();
            for (var i = 1; i < text.Length - 1; i++)
            {
                if (text[i] != '\\')
                {
                    builder.Append(text[i]);
                    continue;
                }

                i++;
                builder.Append(text[i] switch
                {
                    'n' => '\n',
                    't' => '\t',
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    _ => throw new FormatException($"YAML: the escape \\{text[i]} is outside the subset"),
                });
            }

            return builder.ToString();
        }
    }
}
