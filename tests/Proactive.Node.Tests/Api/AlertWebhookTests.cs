using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Proactive.Node.Api;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.Api;

/// <summary>The webhook against a real HTTP receiver on loopback.</summary>
public sealed class AlertWebhookTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_recorded_alert_is_posted_as_the_APIs_alert_JSON()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        await using var webhook = new AlertWebhook(FastOptions(receiver.Url));
        log.Recorded += alert => webhook.Post(alert);

        var id = log.Record(AlertLogTests.Sample(AlertType.InvalidProof, culprit: 4, period: 9, detail: "bad DLEQ"), reporter: 2, T0);

        var body = await receiver.NextBodyAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(id, root.GetProperty("id").GetInt64());
        Assert.Equal("InvalidProof", root.GetProperty("type").GetString());
        Assert.Equal(4, root.GetProperty("culprit").GetInt32());
        Assert.Equal(9UL, root.GetProperty("period").GetUInt64());
        Assert.Equal(2, root.GetProperty("reporter").GetInt32());
        Assert.Equal("bad DLEQ", root.GetProperty("detail").GetString());
        Assert.Equal([1, 2, 3], root.GetProperty("evidence").GetBytesFromBase64());
        Assert.Equal("application/json; charset=utf-8", receiver.ContentTypes.Single());
    }

    [Fact]
    public async Task A_receiver_that_first_fails_gets_the_alert_on_a_retry()
    {
        await using var receiver = await WebhookReceiver.StartAsync(HttpStatusCode.InternalServerError, HttpStatusCode.ServiceUnavailable);
        var settled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var webhook = new AlertWebhook(FastOptions(receiver.Url));
        webhook.Settled = (_, delivered) => settled.TrySetResult(delivered);

        Assert.True(webhook.Post(Stored(1)));

        Assert.True(await settled.Task.WaitAsync(Patience));
        Assert.Equal(3, receiver.Requests);
        var statistics = webhook.Statistics;
        Assert.Equal(1, statistics.Delivered);
        Assert.Equal(2, statistics.Retries);
        Assert.Equal(0, statistics.Failed);
    }

    [Fact]
    public async Task An_alert_is_given_up_after_the_last_attempt_or_at_once_when_refused_for_good()
    {
        await using var failing = await WebhookReceiver.StartAsync(Enumerable.Repeat(HttpStatusCode.BadGateway, 10).ToArray());
        var settled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var webhook = new AlertWebhook(FastOptions(failing.Url, maxAttempts: 3)))
        {
            webhook.Settled = (_, delivered) => settled.TrySetResult(delivered);
            webhook.Post(Stored(1));
            Assert.False(await settled.Task.WaitAsync(Patience));
            Assert.Equal(3, failing.Requests);
            Assert.Equal(1, webhook.Statistics.Failed);
        }

        await using var refusing = await WebhookReceiver.StartAsync(HttpStatusCode.BadRequest);
        var refused = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var second = new AlertWebhook(FastOptions(refusing.Url, maxAttempts: 3));
        second.Settled = (_, delivered) => refused.TrySetResult(delivered);
        second.Post(Stored(1));
        Assert.False(await refused.Task.WaitAsync(Patience));
        Assert.Equal(1, refusing.Requests);
    }

    [Fact]
    public async Task A_full_queue_drops_the_oldest_and_counts_it_without_blocking_the_caller()
    {
        // The receiver holds the first post until released, so the queue fills behind it.
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hold();
        var options = FastOptions(receiver.Url);
        options.Capacity = 2;
        var settledIds = new ConcurrentQueue<long>();
        var allSettled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var webhook = new AlertWebhook(options);
        webhook.Settled = (alert, _) =>
        {
            settledIds.Enqueue(alert.Id);
            if (alert.Id == 5)
            {
                allSettled.TrySetResult();
            }
        };

        webhook.Post(Stored(1));
        await receiver.FirstArrived.WaitAsync(Patience); // alert 1 is in flight, out of the queue
        for (var id = 2; id <= 5; id++)
        {
            Assert.True(webhook.Post(Stored(id)));
        }

        Assert.Equal(2, webhook.Statistics.Dropped);
        receiver.Release();
        await allSettled.Task.WaitAsync(Patience);
        Assert.Equal([1L, 4, 5], settledIds);
    }

    [Fact]
    public async Task Options_out_of_range_are_refused_and_post_after_dispose_is_false()
    {
        Assert.Throws<ArgumentException>(() => new AlertWebhook(new AlertWebhookOptions()));
        Assert.Throws<ArgumentException>(() => new AlertWebhook(new AlertWebhookOptions { Url = new Uri("ftp://example.org/") }));
        Assert.Throws<ArgumentException>(() => new AlertWebhook(new AlertWebhookOptions { Url = new Uri("http://127.0.0.1/"), Capacity = 0 }));
        Assert.Throws<ArgumentException>(() => new AlertWebhook(new AlertWebhookOptions { Url = new Uri("http://127.0.0.1/"), MaxAttempts = 0 }));

        var webhook = new AlertWebhook(new AlertWebhookOptions { Url = new Uri("http://127.0.0.1:9/") });
        await webhook.DisposeAsync();
        Assert.False(webhook.Post(Stored(1)));
    }

    private static AlertWebhookOptions FastOptions(Uri url, int maxAttempts = 5) => new()
    {
        Url = url,
        MaxAttempts = maxAttempts,
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(40),
        Timeout = TimeSpan.FromSeconds(5),
    };

    private static StoredAlert Stored(long id) =>
        new(id, T0, T0, 1, nameof(AlertType.Replay), 2, 3, null, $"alert {id}", [], 0, false, 1);

    /// <summary>A Kestrel receiver on a loopback port 0 that answers each POST with the next scripted status (then 204).</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<HttpStatusCode> _script;
        private readonly System.Threading.Channels.Channel<string> _bodies = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private readonly TaskCompletionSource _firstArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource? _gate;
        private int _requests;

        private WebhookReceiver(WebApplication app, HttpStatusCode[] script)
        {
            _app = app;
            _script = new ConcurrentQueue<HttpStatusCode>(script);
        }

        public Uri Url { get; private set; } = null!;

        public int Requests => Volatile.Read(ref _requests);

        public ConcurrentQueue<string> ContentTypes { get; } = new();

        public Task FirstArrived => _firstArrived.Task;

        public static async Task<WebhookReceiver> StartAsync(params HttpStatusCode[] script)
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var receiver = new WebhookReceiver(app, script);
            app.Run(receiver.HandleAsync);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            receiver.Url = new Uri(new Uri(address), "/hooks/alerts");
            return receiver;
        }

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate?.TrySetResult();

        public async Task<string> NextBodyAsync() => await _bodies.Reader.ReadAsync().AsTask().WaitAsync(Patience);

        public async ValueTask DisposeAsync()
        {
            Release();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task HandleAsync(HttpContext context)
        {
            Interlocked.Increment(ref _requests);
            ContentTypes.Enqueue(context.Request.ContentType ?? string.Empty);
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            _firstArrived.TrySetResult();
            if (_gate is { } gate)
            {
                await gate.Task;
            }

            var status = _script.TryDequeue(out var scripted) ? scripted : HttpStatusCode.NoContent;
            if ((int)status < 300)
            {
                _bodies.Writer.TryWrite(body);
            }

            context.Response.StatusCode = (int)status;
        }
    }
}
