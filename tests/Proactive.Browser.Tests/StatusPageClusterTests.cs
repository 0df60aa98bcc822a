using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Proactive.Cli.Tests;
using Xunit.Abstractions;

namespace Proactive.Browser.Tests;

/// <summary>
/// The status page as a new user sees it, in headless Chromium, against a real local cluster of five
/// processes started through the CLI: five operational servers; after <c>cluster break-in --server 3
/// --wipe</c>, server 3 recovering and the alert that it lost its shares; then server 3 operational
/// again. A full-page screenshot of the end is kept under <c>artifacts/</c> beside the tests. Slow (a
/// recovery over a few 6-second periods); run with <c>--filter Category=EndToEnd</c>.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class StatusPageClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "proactive-status-page-e2e-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        // Whatever happened, leave no process behind.
        ProactiveProcess.Run("cluster", "down", "--dir", _dir);
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_page_shows_a_wiped_server_recovering_the_alert_and_the_server_back()
    {
        var up = ProactiveProcess.Run("cluster", "up", "--nodes", "5", "--threshold", "2", "--faults", "1", "--period", "6s", "--detach", "--timeout", "120s", "--dir", _dir);
        Assert.True(up.ExitCode == 0, up.StandardOutput + up.StandardError);
        var page = new Uri(new Uri(ApiOf(1)), "/ui").ToString();
        output.WriteLine($"status page: {page}");

        await using var chromium = await Chromium.LaunchAsync();
        var (browser, errors) = await chromium.OpenAsync(1280, 900);
        await browser.GotoAsync(page);
        await browser.WaitForFunctionAsync(
            "() => document.querySelectorAll('article.card[data-state=\"operational\"]').length === 5",
            null,
            new() { Timeout = 60_000, PollingInterval = 250 });
        Assert.StartsWith("5 of 5 servers operational", await browser.Locator("#summary").InnerTextAsync(), StringComparison.Ordinal);
        await SaveAsync(browser, "status-page-cluster-operational.png");

        var wipe = ProactiveProcess.Run("cluster", "break-in", "--server", "3", "--wipe", "--dir", _dir);
        Assert.True(wipe.ExitCode == 0, wipe.StandardOutput + wipe.StandardError);

        // Every state the page gives server 3 from now on, in order (repeats collapsed).
        var seen = new List<string>();
        var server3 = browser.Locator("article.card[data-server='3']");
        Assert.True(await WatchAsync(server3, seen, state => state == "recovering", TimeSpan.FromSeconds(90)), "the page never showed server 3 recovering; it showed " + string.Join(" → ", seen) + LogTail(3));
        Assert.Contains("Recovering", await server3.InnerTextAsync(), StringComparison.Ordinal);
        await SaveAsync(browser, "status-page-cluster-recovering.png");

        // The others recorded that server 3 lost its shares; the timeline shows it, naming server 3.
        var alert = browser.Locator("li.alert[data-type='CorruptedShares'][data-culprit='3']");
        await alert.First.WaitForAsync(new() { Timeout = 60_000 });
        Assert.Contains("culprit: server 3", await alert.First.InnerTextAsync(), StringComparison.Ordinal);

        Assert.True(await WatchAsync(server3, seen, state => state == "operational", TimeSpan.FromSeconds(120)), "server 3 did not come back on the page; it showed " + string.Join(" → ", seen) + LogTail(3));
        await browser.WaitForFunctionAsync(
            "() => document.querySelectorAll('article.card[data-state=\"operational\"]').length === 5",
            null,
            new() { Timeout = 60_000, PollingInterval = 250 });
        output.WriteLine("server 3 on the page: " + string.Join(" → ", seen));
        await SaveAsync(browser, "status-page-cluster.png");
        Assert.True(errors.Count == 0, "console errors: " + string.Join(" | ", errors));
    }

    /// <summary>Reads the card's state until <paramref name="until"/> holds, recording each new state in <paramref name="seen"/>.</summary>
    private static async Task<bool> WatchAsync(ILocator card, List<string> seen, Func<string, bool> until, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            var state = await card.GetAttributeAsync("data-state", new() { Timeout = 10_000 }) ?? "missing";
            if (seen.Count == 0 || seen[^1] != state)
            {
                seen.Add(state);
            }

            if (until(state))
            {
                return true;
            }

            await Task.Delay(Poll);
        }

        return false;
    }

    private async Task SaveAsync(IPage page, string name)
    {
        var path = Chromium.ArtifactPath(name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }

    private string ApiOf(int id)
    {
        var run = ProactiveProcess.Run("cluster", "status", "--json", "--dir", _dir);
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StandardOutput);
        return json.RootElement.EnumerateArray().Single(s => s.GetProperty("id").GetInt32() == id).GetProperty("apiUrl").GetString()!;
    }

    /// <summary>The end of a server's log, for a failure message (the folder is deleted afterwards).</summary>
    private string LogTail(int id)
    {
        var log = Path.Combine(_dir, "server-" + id.ToString(CultureInfo.InvariantCulture), "node.log");
        return File.Exists(log) ? $"\n--- server {id}\n" + string.Join("\n", File.ReadAllLines(log).TakeLast(20)) : string.Empty;
    }
}
