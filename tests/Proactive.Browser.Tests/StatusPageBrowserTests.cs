using System.Net;
using Microsoft.Playwright;
using Proactive.Node.Api;
using Proactive.Node.Storage;
using Proactive.Node.Tests.StatusPage;
using Proactive.Protocols.Machines;
using Xunit.Abstractions;

namespace Proactive.Browser.Tests;

/// <summary>
/// The status page in headless Chromium against real loopback APIs: server 1 (the page's), server 2 (a
/// real API, recovering, with an alert), server 3 (nothing listens) and server 4 (never answers). Every
/// state is drawn with its word, the evidence expands and stays open across refreshes, the chart and the
/// tables are drawn, nothing breaks the Content-Security-Policy, and a phone-sized screen needs no
/// sideways scrolling.
/// </summary>
public sealed class StatusPageBrowserTests(StatusPageBrowserTests.Network network, ITestOutputHelper output) : IClassFixture<StatusPageBrowserTests.Network>
{
    [Fact]
    public async Task Every_state_is_drawn_with_its_word_and_the_evidence_expands()
    {
        var (page, errors) = await network.Chromium.OpenAsync(1280, 900);
        await page.GotoAsync(network.Page.ToString());
        await page.WaitForSelectorAsync("body[data-loaded='true']", new() { Timeout = 30_000 });

        Assert.Equal("Proactive network status", await page.TitleAsync());
        foreach (var (id, state, word) in new[] { (1, "operational", "Operational"), (2, "recovering", "Recovering"), (3, "down", "Down"), (4, "unreachable", "Unreachable") })
        {
            var card = page.Locator($"article[data-server='{id}']");
            Assert.Equal(state, await card.GetAttributeAsync("data-state"));
            Assert.Contains(word, await card.InnerTextAsync(), StringComparison.Ordinal);
        }

        Assert.Contains("connection refused", await page.Locator("article[data-server='3']").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("timeout", await page.Locator("article[data-server='4']").InnerTextAsync(), StringComparison.Ordinal);
        Assert.StartsWith("1 of 4 servers operational", await page.Locator("#summary").InnerTextAsync(), StringComparison.Ordinal);

        var alert = page.Locator("li.alert[data-type='CorruptedShares'][data-culprit='3']");
        Assert.Contains("culprit: server 3", await alert.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Reported by server 2", await alert.InnerTextAsync(), StringComparison.Ordinal);
        var hex = alert.Locator("code.hex");
        Assert.False(await hex.IsVisibleAsync());
        await alert.Locator("details.report > summary").ClickAsync();
        Assert.True(await hex.IsVisibleAsync());
        Assert.Equal(2 * 2048, (await hex.InnerTextAsync()).Length);
        Assert.Contains("The first 2048 of 3000 bytes", await alert.InnerTextAsync(), StringComparison.Ordinal);

        // Two refreshes later (the page asks every 2.5 s) the opened evidence is still open.
        var updated = await page.Locator("#updated").InnerTextAsync();
        await page.WaitForFunctionAsync("text => document.getElementById('updated').textContent !== text", updated, new() { Timeout = 30_000 });
        Assert.True(await hex.IsVisibleAsync());

        Assert.Equal(2, await page.Locator("#chart svg path.series").CountAsync());
        Assert.Equal(4, await page.Locator("#keytables tbody tr").CountAsync());
        Assert.Contains("✔ 2 agree", await page.Locator("#keytables tbody tr").First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("ab01cd", await page.Locator("#network").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("3", await page.Locator("#apps tbody tr").First.Locator("td").First.InnerTextAsync());

        var shot = Chromium.ArtifactPath("status-page-in-process-desktop.png");
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot}");
        Assert.True(errors.Count == 0, "console errors: " + string.Join(" | ", errors));
    }

    [Fact]
    public async Task On_a_phone_the_page_fits_the_screen_width()
    {
        var (page, errors) = await network.Chromium.OpenAsync(390, 844, mobile: true);
        await page.GotoAsync(network.Page.ToString());
        await page.WaitForSelectorAsync("body[data-loaded='true']", new() { Timeout = 30_000 });

        // A phone widens its layout to what overflows (innerWidth grows): compare with the screen, clientWidth.
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the page is {widths[0]} px wide on a {widths[1]} px screen: it scrolls sideways");
        var first = await page.Locator("article[data-server='1']").BoundingBoxAsync();
        var second = await page.Locator("article[data-server='2']").BoundingBoxAsync();
        Assert.True(second!.Y > first!.Y, "the server cards are not stacked in one column");

        var shot = Chromium.ArtifactPath("status-page-in-process-phone.png");
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot}");
        Assert.True(errors.Count == 0, "console errors: " + string.Join(" | ", errors));
    }

    /// <summary>The servers and the browser, shared by the tests (they only read).</summary>
    public sealed class Network : IAsyncLifetime
    {
        /// <summary>Server 1's status page.</summary>
        public Uri Page { get; private set; } = null!;

        public Chromium Chromium { get; private set; } = null!;

        private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

        private readonly string _temp = Path.Combine(Path.GetTempPath(), "proactive-browser-" + Guid.NewGuid().ToString("N"));
        private readonly List<IAsyncDisposable> _servers = [];
        private readonly List<AlertLog> _logs = [];

        public async Task InitializeAsync()
        {
            Directory.CreateDirectory(_temp);
            Chromium = await Chromium.LaunchAsync();

            var peerLog = Log("peer");
            peerLog.Record(new Alert(AlertType.CorruptedShares, 3, 7, null, "server 3 announced that it lost its shares", [.. Enumerable.Range(0, 3000).Select(i => (byte)i)]), 2, T0);
            var peer = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => Status(2, NodeState.Recovering), peerLog);
            _servers.Add(peer);
            await peer.StartAsync();
            var silent = FakePeer.Silent();
            _servers.Add(silent);

            var services = new ClusterOnlyServices([(2, peer.BaseAddress.ToString()), (3, FakePeer.ClosedApi()), (4, silent.Api)]);
            var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => Status(1, NodeState.Operational), Log("self"), services: services);
            _servers.Insert(0, api);
            await api.StartAsync();
            services.Self = api.BaseAddress.ToString();
            Page = new Uri(api.BaseAddress, NodeApi.StatusPagePath);
        }

        public async Task DisposeAsync()
        {
            await Chromium.DisposeAsync();
            foreach (var server in _servers)
            {
                await server.DisposeAsync();
            }

            foreach (var log in _logs)
            {
                log.Dispose();
            }

            Directory.Delete(_temp, recursive: true);
        }

        private AlertLog Log(string name)
        {
            var log = AlertLog.Open(Path.Combine(_temp, name + ".db"));
            _logs.Add(log);
            return log;
        }

        /// <summary>A server's status with history: the refreshes of periods 1 to 6 and their KeyTables.</summary>
        private static NodeStatus Status(int id, NodeState state)
        {
            var (writeProtected, description) = NodeStatus.DescribeRom(RomProtection.FileModeOnly);
            var peers = Enumerable.Range(1, 4).Where(p => p != id).Select(p => new PeerStatus(p, p < 3, p < 3 ? T0 : null)).ToList();
            return new NodeStatus(id, state, 6, T0, T0.AddSeconds(30), 400 + (10 * id), "ab01cd", NodeStatus.Fingerprint([6]), peers, 1, writeProtected, description, T0.AddMinutes(-5), "1.0.0.0")
            {
                SharesPeriod = 6,
                SharesRefreshedAt = T0,
                Refreshes = [.. Enumerable.Range(1, 6).Select(p => new RefreshRecord((ulong)p, T0.AddSeconds(-30 * (7 - p)), T0.AddSeconds((-30 * (7 - p)) + 1), (300 * id) + (p * 50)))],
                KeyTables = [.. Enumerable.Range(3, 4).Select(p => new KeyTableRecord((ulong)p, T0, NodeStatus.Fingerprint([(byte)p]), NodeStatus.Fingerprint([(byte)id, (byte)p])))],
                Applications = new ApplicationCounts(3, 4, 10, 2, 1),
            };
        }
    }
}
