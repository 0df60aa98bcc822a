// References: docs/BRIEF.md section 1 ("Periods": L is configuration, production default 1 h, local
// cluster default 30 s).
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Proactive.Node.Configuration;

/// <summary>
/// The period length L as people write it: a number and a unit (s, m, h, d), or several ("1h30m").
/// In the configuration file it is stored as whole seconds.
/// </summary>
public static class PeriodLength
{
    /// <summary>The shortest period accepted (a refresh must fit in it; short periods are for tests and demos).</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromSeconds(1);

    /// <summary>The longest period accepted: a year. Longer would leave stolen shares useful for longer than any deployment reviews its keys.</summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromDays(366);

    /// <summary>Parses "30s", "1h", "1d", "1h30m"; false with the reason for anything else.</summary>
    public static bool TryParse(string? text, out TimeSpan period, [NotNullWhen(false)] out string? error)
    {
        period = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "the period is empty; write it as a number and a unit, e.g. 30s, 15m, 1h, 1d or 1h30m.";
            return false;
        }

        long seconds = 0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start || i == text.Length || i - start > 9)
            {
                error = $"'{text}' is not a period; write it as a number and a unit (s, m, h, d), e.g. 30s, 1h or 1h30m.";
                return false;
            }

            var amount = long.Parse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            long unit = text[i] switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => 0,
            };
            if (unit == 0)
            {
                error = $"'{text}': unknown unit '{text[i]}'; use s, m, h or d.";
                return false;
            }

            seconds += amount * unit;
            if (seconds > (long)Maximum.TotalSeconds)
            {
                error = $"the period must be whole seconds between {Format(Minimum)} and {Format(Maximum)}.";
                return false;
            }

            i++;
        }

        return Check(TimeSpan.FromSeconds(seconds), out period, out error);
    }

    /// <summary>Whole seconds within [<see cref="Minimum"/>, <see cref="Maximum"/>].</summary>
    public static bool Check(TimeSpan candidate, out TimeSpan period, [NotNullWhen(false)] out string? error)
    {
        period = default;
        if (candidate < Minimum || candidate > Maximum || candidate.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            error = $"the period must be whole seconds between {Format(Minimum)} and {Format(Maximum)}.";
            return false;
        }

        period = candidate;
        error = null;
        return true;
    }

    /// <summary>The shortest way to write <paramref name="period"/>: 30s, 1h, 1h30m, 1d.</summary>
    public static string Format(TimeSpan period)
    {
        var seconds = (long)period.TotalSeconds;
        if (seconds <= 0)
        {
            return "0s";
        }

        var text = new StringBuilder();
        foreach (var (unit, suffix) in new[] { (86400L, 'd'), (3600L, 'h'), (60L, 'm'), (1L, 's') })
        {
            if (seconds >= unit)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / unit}{suffix}");
                seconds %= unit;
            }
        }

        return text.ToString();
    }
}
