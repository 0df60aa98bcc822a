using Microsoft.Playwright;

namespace Proactive.Browser.Tests;

/// <summary>
/// The system's Chromium, driven by Playwright: headless, without a sandbox (tests may run as root) and
/// without a GPU. Playwright's own browser download is not used (it does not work offline); its node
/// driver ships inside its package. <c>PROACTIVE_CHROMIUM</c> names another Chromium binary.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("PROACTIVE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<Chromium> LaunchAsync()
    {
        Assert.True(
            File.Exists(ExecutablePath),
            $"Chromium is not installed at {ExecutablePath}. Install the Debian package 'chromium' (./test.sh does it when run as root: apt-get install -y chromium), or set PROACTIVE_CHROMIUM to a Chromium binary.");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu"],
                Timeout = 60_000,
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page of <paramref name="width"/> × <paramref name="height"/> CSS pixels that records every console error and script error (a Content-Security-Policy violation is a console error).</summary>
    public async Task<(IPage Page, List<string> Errors)> OpenAsync(int width, int height, bool mobile = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            IsMobile = mobile,
            HasTouch = mobile,
        });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add(error);
            }
        };
        return (page, errors);
    }

    /// <summary>Where a screenshot of this run goes: <c>artifacts/</c> beside the tests (under bin/, never committed).</summary>
    public static string ArtifactPath(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, name);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
