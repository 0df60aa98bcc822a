// References: RFC 6066 section 3 (server_name), RFC 2606 section 2 (the reserved ".invalid" TLD);
// docs/NODE.md "Peer transport", "Certificates and periods".
using System.Globalization;

namespace Proactive.Node.Transport;

/// <summary>
/// The TLS server name (and HTTP authority) a link uses: <c>s{server}.p{period}.proactive.invalid</c>.
/// It tells the listener which period's certificate the client expects, so that around a period
/// switch both sides can use the same period while each still holds both certificates. It is a label,
/// not an address: connections go to the configured endpoint, and nothing resolves the name.
/// </summary>
public static class PeerHostName
{
    private const string Suffix = ".proactive.invalid";

    /// <summary>The name for server <paramref name="serverId"/> in <paramref name="period"/>.</summary>
    public static string Format(int serverId, ulong period) =>
        string.Create(CultureInfo.InvariantCulture, $"s{serverId}.p{period}{Suffix}");

    /// <summary>Reads the period from a name a client sent; false for anything else (then the current certificate is served).</summary>
    public static bool TryParsePeriod(string? hostName, out ulong period)
    {
        period = 0;
        if (hostName is null || hostName.Length > 64 || !hostName.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var labels = hostName.AsSpan(0, hostName.Length - Suffix.Length);
        var dot = labels.IndexOf('.');
        if (dot < 2 || labels[0] is not ('s' or 'S'))
        {
            return false;
        }

        var periodLabel = labels[(dot + 1)..];
        return periodLabel.Length >= 2 && periodLabel[0] is ('p' or 'P') &&
            ulong.TryParse(periodLabel[1..], NumberStyles.None, CultureInfo.InvariantCulture, out period);
    }
}
