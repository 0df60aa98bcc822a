// References: docs/NODE.md "Timeouts"; RefreshTimeouts, DkgOptions, AgreementTimeouts (deadlines are
// progress, never safety: a late message only delays or excludes its sender).
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Recovery;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Signing;

namespace Proactive.Node.Hosting;

/// <summary>
/// The protocol windows a node uses, scaled to the period length: the windows are how long a server
/// waits for late peers before it complains or proposes, so they bound how long a refresh takes when
/// everyone is on time. A short period (a demo cluster on one machine) gets short windows, an hour-long
/// period on a wide-area network gets windows of seconds.
/// </summary>
public static class NodeTimeouts
{
    /// <summary>The shortest window (loopback and LAN round trips are far below it).</summary>
    public static readonly TimeSpan MinimumWindow = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest window.</summary>
    public static readonly TimeSpan MaximumWindow = TimeSpan.FromSeconds(10);

    /// <summary>The timeouts for a period of <paramref name="period"/>: a window of period / 40, within [250 ms, 10 s].</summary>
    public static ControllerTimeouts ForPeriod(TimeSpan period)
    {
        var window = TimeSpan.FromTicks(Math.Clamp(period.Ticks / 40, MinimumWindow.Ticks, MaximumWindow.Ticks));
        return new ControllerTimeouts(
            new AgreementTimeouts(window * 2, window, window, window),
            new DkgOptions(window * 2, window * 2),
            new RefreshTimeouts(window, window, window * 8),
            new RecoveryTimeouts(window * 2, window * 16),
            new KeyTableTimeouts(window * 2),
            new PeriodCertificateTimeouts(window * 12, window * 2, new SigningTimeouts(window * 4, window * 60)));
    }
}
