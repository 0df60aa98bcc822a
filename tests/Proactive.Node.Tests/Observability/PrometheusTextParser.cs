// References: Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details).
using System.Globalization;
using System.Text;

namespace Proactive.Node.Tests.Observability;

/// <summary>One sample line: its metric name (with a histogram's suffix), labels and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>One metric family: its TYPE, HELP and samples in the order they came.</summary>
internal sealed record PrometheusFamily(string Name, string Type, string? Help, IReadOnlyList<PrometheusSample> Samples);

/// <summary>
/// A strict reader of the Prometheus text format, stricter than Prometheus itself where our exporter
/// promises more: every line is a HELP, a TYPE or a sample (no other comments, no blank lines); the
/// text ends with a line feed; a family's TYPE comes before its samples, once, and its lines are
/// contiguous; names, label names, escapes and numbers follow the grammar exactly; no series twice; a
/// counter's name ends with _total and its values are not negative; a histogram has, per label set,
/// buckets with strictly increasing <c>le</c> ending at <c>+Inf</c>, non-decreasing counts, and a
/// <c>_count</c> equal to the <c>+Inf</c> bucket and a <c>_sum</c>. Throws <see cref="FormatException"/>
/// naming the line.
/// </summary>
internal static class PrometheusTextParser
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public static IReadOnlyDictionary<string, PrometheusFamily> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("The text does not end with a line feed.");
        }

        var families = new Dictionary<string, (string? Type, string? Help, List<PrometheusSample> Samples)>(StringComparer.Ordinal);
        var order = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var started = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Length == 0 ? [] : text[..^1].Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index];
            var number = index + 1;
            if (line.Contains('\r', StringComparison.Ordinal))
            {
                throw new FormatException($"line {number}: a carriage return");
            }

            string family;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                family = space < 0 ? rest : rest[..space];
                RequireMetricName(family, number);
                var entry = Family(families, order, family);
                if (line[2] == 'H')
                {
                    if (space < 0 || entry.Help is not null)
                    {
                        throw new FormatException($"line {number}: a HELP without text, or a second HELP for {family}");
                    }

                    families[family] = entry with { Help = UnescapeHelp(rest[(space + 1)..], number) };
                }
                else
                {
                    var type = space < 0 ? string.Empty : rest[(space + 1)..];
                    if (!Types.Contains(type) || entry.Type is not null || entry.Samples.Count > 0)
                    {
                        throw new FormatException($"line {number}: an unknown type '{type}', a second TYPE, or a TYPE after samples of {family}");
                    }

                    families[family] = entry with { Type = type };
                }
            }
            else if (line.StartsWith('#') || line.Length == 0)
            {
                throw new FormatException($"line {number}: only HELP, TYPE and sample lines are expected: '{line}'");
            }
            else
            {
                var sample = ParseSample(line, number);
                family = FamilyOf(sample.Name, families);
                var entry = Family(families, order, family);
                if (entry.Type is null)
                {
                    throw new FormatException($"line {number}: a sample of {family} before its TYPE");
                }

                var key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
                if (!seen.Add(key))
                {
                    throw new FormatException($"line {number}: the series {key} twice");
                }

                entry.Samples.Add(sample);
            }

            if (current != family)
            {
                if (!started.Add(family))
                {
                    throw new FormatException($"line {number}: the lines of {family} are not contiguous");
                }

                current = family;
            }
        }

        var result = new Dictionary<string, PrometheusFamily>(StringComparer.Ordinal);
        foreach (var name in order)
        {
            var (type, help, samples) = families[name];
            var parsed = new PrometheusFamily(name, type ?? throw new FormatException($"{name} has no TYPE"), help, samples);
            Check(parsed);
            result.Add(name, parsed);
        }

        return result;
    }

    private static (string? Type, string? Help, List<PrometheusSample> Samples) Family(
        Dictionary<string, (string? Type, string? Help, List<PrometheusSample> Samples)> families, List<string> order, string name)
    {
        if (!families.TryGetValue(name, out var entry))
        {
            entry = (null, null, []);
            families.Add(name, entry);
            order.Add(name);
        }

        return entry;
    }

    /// <summary>The family a sample belongs to: its own name, or a histogram's or summary's without the suffix.</summary>
    private static string FamilyOf(string sample, Dictionary<string, (string? Type, string? Help, List<PrometheusSample> Samples)> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sample[..^suffix.Length], out var entry) && entry.Type is "histogram" or "summary")
            {
                return sample[..^suffix.Length];
            }
        }

        return sample;
    }

    private static void Check(PrometheusFamily family)
    {
        switch (family.Type)
        {
            case "counter":
                if (!family.Name.EndsWith("_total", StringComparison.Ordinal))
                {
                    throw new FormatException($"the counter {family.Name} does not end with _total");
                }

                if (family.Samples.Any(s => s.Name != family.Name || !(s.Value >= 0)))
                {
                    throw new FormatException($"the counter {family.Name} has a sample of another name or a negative value");
                }

                break;
            case "gauge":
                if (family.Samples.Any(s => s.Name != family.Name))
                {
                    throw new FormatException($"the gauge {family.Name} has a sample of another name");
                }

                break;
            case "histogram":
                CheckHistogram(family);
                break;
        }
    }

    private static void CheckHistogram(PrometheusFamily family)
    {
        static string LabelsWithout(PrometheusSample s, string name) =>
            string.Join(",", s.Labels.Where(l => l.Key != name).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));

        foreach (var series in family.Samples.GroupBy(s => LabelsWithout(s, "le")))
        {
            var buckets = series.Where(s => s.Name == family.Name + "_bucket").ToList();
            var sum = series.Where(s => s.Name == family.Name + "_sum").ToList();
            var count = series.Where(s => s.Name == family.Name + "_count").ToList();
            if (buckets.Count + sum.Count + count.Count != series.Count() || sum.Count != 1 || count.Count != 1 || buckets.Count == 0)
            {
                throw new FormatException($"the histogram {family.Name}{{{series.Key}}} needs buckets, one _sum and one _count, and nothing else");
            }

            if (sum[0].Labels.ContainsKey("le") || count[0].Labels.ContainsKey("le"))
            {
                throw new FormatException($"the histogram {family.Name}{{{series.Key}}} has an le label on _sum or _count");
            }

            var previousBound = double.NegativeInfinity;
            var previousCount = 0.0;
            foreach (var bucket in buckets)
            {
                if (!bucket.Labels.TryGetValue("le", out var le) || !TryParseFloat(le, out var bound) || !(bound > previousBound))
                {
                    throw new FormatException($"the histogram {family.Name}{{{series.Key}}} has a bucket without an le, or with le not increasing ('{le}')");
                }

                if (bucket.Value < previousCount || bucket.Value != Math.Floor(bucket.Value))
                {
                    throw new FormatException($"the histogram {family.Name}{{{series.Key}}} has bucket counts that are not cumulative whole numbers");
                }

                previousBound = bound;
                previousCount = bucket.Value;
            }

            if (!double.IsPositiveInfinity(previousBound) || buckets[^1].Labels["le"] != "+Inf")
            {
                throw new FormatException($"the histogram {family.Name}{{{series.Key}}} does not end with le=\"+Inf\"");
            }

            if (count[0].Value != previousCount)
            {
                throw new FormatException($"the histogram {family.Name}{{{series.Key}}} has _count {count[0].Value} but +Inf bucket {previousCount}");
            }
        }
    }

    private static PrometheusSample ParseSample(string line, int number)
    {
        var position = 0;
        var name = ReadName(line, ref position, allowColon: true);
        if (name.Length == 0)
        {
            throw new FormatException($"line {number}: no metric name");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (position < line.Length && line[position] == '{')
        {
            position++;
            while (true)
            {
                if (position < line.Length && line[position] == '}')
                {
                    position++;
                    break;
                }

                var label = ReadName(line, ref position, allowColon: false);
                if (label.Length == 0 || label.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new FormatException($"line {number}: a bad label name at {position}");
                }

                if (position + 1 >= line.Length || line[position] != '=' || line[position + 1] != '"')
                {
                    throw new FormatException($"line {number}: expected =\" after {label}");
                }

                position += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (position >= line.Length)
                    {
                        throw new FormatException($"line {number}: an unterminated label value");
                    }

                    var c = line[position++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        var escaped = position < line.Length ? line[position++] : '\0';
                        value.Append(escaped switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"line {number}: a bad escape \\{escaped} in a label value"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"line {number}: the label {label} twice");
                }

                if (position < line.Length && line[position] == ',')
                {
                    position++;
                }
                else if (position >= line.Length || line[position] != '}')
                {
                    throw new FormatException($"line {number}: expected , or }} after a label value");
                }
            }
        }

        if (position >= line.Length || line[position] != ' ')
        {
            throw new FormatException($"line {number}: expected one space before the value");
        }

        var parts = line[(position + 1)..].Split(' ');
        if (parts.Length is < 1 or > 2 || !TryParseFloat(parts[0], out var sample))
        {
            throw new FormatException($"line {number}: a bad value '{line[(position + 1)..]}'");
        }

        if (parts.Length == 2 && !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"line {number}: a bad timestamp '{parts[1]}'");
        }

        return new PrometheusSample(name, labels, sample);
    }

    private static string ReadName(string line, ref int position, bool allowColon)
    {
        var start = position;
        while (position < line.Length)
        {
            var c = line[position];
            var ok = char.IsAsciiLetter(c) || c == '_' || (allowColon && c == ':') || (position > start && char.IsAsciiDigit(c));
            if (!ok)
            {
                break;
            }

            position++;
        }

        return line[start..position];
    }

    private static void RequireMetricName(string name, int number)
    {
        var position = 0;
        if (ReadName(name, ref position, allowColon: true) != name || name.Length == 0)
        {
            throw new FormatException($"line {number}: '{name}' is not a metric name");
        }
    }

    private static string UnescapeHelp(string text, int number)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }

            var escaped = i + 1 < text.Length ? text[++i] : '\0';
            result.Append(escaped switch
            {
                '\\' => '\\',
                'n' => '\n',
                _ => throw new FormatException($"line {number}: a bad escape \\{escaped} in HELP"),
            });
        }

        return result.ToString();
    }

    /// <summary>A float as Go's ParseFloat reads the format's values: decimal or exponent notation, NaN, +Inf, -Inf.</summary>
    private static bool TryParseFloat(string text, out double value)
    {
        switch (text)
        {
            case "NaN":
                value = double.NaN;
                return true;
            case "+Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
        }

        // No spaces, no thousands separators, no hex, no "Infinity": the decimal grammar only.
        value = 0;
        return text.Length > 0 && text.All(c => char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>Reading values out of a parsed scrape.</summary>
internal static class PrometheusScrapeExtensions
{
    /// <summary>The value of the one sample named <paramref name="name"/> whose labels include <paramref name="labels"/> ("name=value"); null when there is none.</summary>
    public static double? Value(this IReadOnlyDictionary<string, PrometheusFamily> scrape, string name, params string[] labels)
    {
        var matches = scrape.Values.SelectMany(f => f.Samples)
            .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l[..l.IndexOf('=', StringComparison.Ordinal)], out var v) && v == l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            .ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0].Value,
            _ => throw new InvalidOperationException($"{matches.Count} samples of {name} match {string.Join(",", labels)}"),
        };
    }

    /// <summary>The sum of every sample named <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public static double Sum(this IReadOnlyDictionary<string, PrometheusFamily> scrape, string name, params string[] labels) =>
        scrape.Values.SelectMany(f => f.Samples)
            .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l[..l.IndexOf('=', StringComparison.Ordinal)], out var v) && v == l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            .Sum(s => s.Value);
}
