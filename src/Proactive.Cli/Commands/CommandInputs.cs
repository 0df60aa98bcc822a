using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Proactive.Cli.Commands;

/// <summary>
/// Where a value comes from: <c>--value TEXT</c> (UTF-8), <c>--file F</c> (its bytes), or <c>-</c> (stdin's
/// bytes). Exactly one, so that a typo never stores an empty value.
/// </summary>
internal sealed class ValueInput
{
    internal Option<string?> Value { get; } = new("--value") { Description = "The value, as text (stored as its UTF-8 bytes)." };

    internal Option<string?> File { get; } = new("--file") { Description = "Read the value from this file (its bytes as they are; - for stdin)." };

    internal Argument<string?> Stdin { get; } = new("source") { Description = "- to read the value from stdin.", Arity = ArgumentArity.ZeroOrOne };

    internal void AddTo(Command command)
    {
        command.Options.Add(Value);
        command.Options.Add(File);
        command.Arguments.Add(Stdin);
    }

    /// <summary>The value's bytes, or false with a message (a usage error when <paramref name="usage"/>).</summary>
    internal bool TryRead(ParseResult parse, out byte[] value, out string error, out bool usage)
    {
        value = [];
        error = string.Empty;
        usage = true;
        var text = parse.GetValue(Value);
        var file = parse.GetValue(File);
        var source = parse.GetValue(Stdin);
        if (source is not null && source != "-")
        {
            error = $"Unexpected argument '{source}': give the value with --value TEXT, --file F, or - for stdin.";
            return false;
        }

        var given = (text is null ? 0 : 1) + (file is null ? 0 : 1) + (source is null ? 0 : 1);
        if (given != 1)
        {
            error = given == 0 ? "Give the value: --value TEXT, --file F, or - for stdin." : "Give the value once: --value TEXT, --file F or - (not several).";
            return false;
        }

        if (text is not null)
        {
            value = Encoding.UTF8.GetBytes(text);
            return true;
        }

        return TryReadBytes(file ?? "-", out value, out error, out usage);
    }

    /// <summary>A file's bytes, or stdin's for <c>-</c>.</summary>
    internal static bool TryReadBytes(string path, out byte[] bytes, out string error, out bool usage)
    {
        bytes = [];
        error = string.Empty;
        usage = false;
        try
        {
            if (path == "-")
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                stdin.CopyTo(buffer);
                bytes = buffer.ToArray();
            }
            else
            {
                bytes = System.IO.File.ReadAllBytes(path);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"Cannot read {path}: {e.Message}";
            return false;
        }
    }
}

/// <summary>
/// A message to sign or verify: <c>--message TEXT</c> (UTF-8), <c>--message-hex HEX</c>, or <c>--file F</c>
/// (its bytes; - for stdin). Exactly one.
/// </summary>
internal sealed class MessageInput
{
    internal Option<string?> Text { get; } = new("--message") { Description = "The message, as text (its UTF-8 bytes)." };

    internal Option<string?> Hex { get; } = new("--message-hex") { Description = "The message, lowercase hex." };

    internal Option<string?> File { get; } = new("--file") { Description = "Read the message from this file (- for stdin)." };

    internal void AddTo(Command command)
    {
        command.Options.Add(Text);
        command.Options.Add(Hex);
        command.Options.Add(File);
    }

    internal bool TryRead(ParseResult parse, int maxBytes, out byte[] message, out string error, out bool usage)
    {
        message = [];
        usage = true;
        var text = parse.GetValue(Text);
        var hex = parse.GetValue(Hex);
        var file = parse.GetValue(File);
        if ((text is null ? 0 : 1) + (hex is null ? 0 : 1) + (file is null ? 0 : 1) != 1)
        {
            error = "Give the message once: --message TEXT, --message-hex HEX or --file F.";
            return false;
        }

        if (text is not null)
        {
            message = Encoding.UTF8.GetBytes(text);
        }
        else if (hex is not null)
        {
            if (!ClientConnection.TryParseHex(hex, "--message-hex", maxBytes, out message, out error))
            {
                return false;
            }
        }
        else if (!ValueInput.TryReadBytes(file!, out message, out error, out usage))
        {
            return false;
        }

        if (message.Length > maxBytes)
        {
            error = $"The message is {message.Length} bytes; at most {maxBytes} can be signed.";
            usage = true;
            return false;
        }

        error = string.Empty;
        return true;
    }
}

/// <summary>Dates on the command line.</summary>
internal static class CommandDates
{
    /// <summary>
    /// An ISO 8601 date and time (<c>2026-12-24T18:00:00Z</c>; UTC when it names no offset) or a time from
    /// now (<c>+30s</c>, <c>+10m</c>, <c>+2h</c>, <c>+7d</c>).
    /// </summary>
    internal static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset date)
    {
        date = default;
        if (text.Length >= 3 && text[0] == '+' && long.TryParse(text.AsSpan(1, text.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            try
            {
                TimeSpan? span = text[^1] switch
                {
                    's' => TimeSpan.FromSeconds(amount),
                    'm' => TimeSpan.FromMinutes(amount),
                    'h' => TimeSpan.FromHours(amount),
                    'd' => TimeSpan.FromDays(amount),
                    _ => null,
                };
                if (span is { } offset)
                {
                    date = now + offset;
                    return true;
                }
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
            {
                // Further than a date can be.
            }

            return false;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date);
    }
}
