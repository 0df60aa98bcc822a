// References: Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/: metric and label names, escaping in
// HELP lines and label values, float values); OpenTelemetry specification "Prometheus and OpenMetrics
// compatibility" (an instrument's name and unit become a metric name: dots to underscores, a unit
// suffix, _total on counters).
using System.Globalization;
using System.Text;

namespace Proactive.Node.Observability;

/// <summary>The lexical rules of the Prometheus text format: names, escaping, numbers.</summary>
public static class PrometheusText
{
    /// <summary>The media type of the format this exporter writes (version 0.0.4).</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// The metric name of an instrument: every character outside <c>[a-zA-Z0-9_:]</c> becomes <c>_</c>
    /// (a leading digit gets a <c>_</c> before it), the unit's Prometheus word is appended unless the
    /// name ends with it already (<c>s</c> gives <c>_seconds</c>, <c>By</c> <c>_bytes</c>, an annotation
    /// like <c>{frame}</c> or <c>1</c> nothing), and a counter ends with <c>_total</c>.
    /// </summary>
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        ArgumentException.ThrowIfNullOrEmpty(instrumentName);
        var name = Sanitize(instrumentName, allowColon: true);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        if (isCounter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    /// <summary>A label name: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, other characters replaced by <c>_</c>.</summary>
    public static string LabelName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Sanitize(name, allowColon: false);
    }

    /// <summary>Escapes a label value: backslash, double quote and line feed (the three the format escapes).</summary>
    public static string EscapeLabelValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
        {
            return value;
        }

        return value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>Escapes a HELP text: backslash and line feed (a double quote stays as it is there).</summary>
    public static string EscapeHelp(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>A sample value as Go's <c>strconv.ParseFloat</c> (Prometheus's parser) reads it: <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>, or the shortest round-trip decimal.</summary>
    public static string FormatValue(double value) =>
        double.IsNaN(value) ? "NaN"
        : double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => string.Empty,
        _ when unit.StartsWith('{') => string.Empty, // an annotation ({frame}, {request}): a count, no unit
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        _ => Sanitize(unit, allowColon: false).Trim('_').ToLowerInvariant(),
    };

    private static string Sanitize(string name, bool allowColon)
    {
        var builder = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        return builder.ToString();
    }
}
