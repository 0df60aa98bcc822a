using System.Net;
using System.Text;
using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

// Hand-made bodies from a pinned client: limits answer 413, garbage 400, with a reason and nothing delivered.
public sealed class PeerListenerLimitsTests : IAsyncLifetime
{
    private readonly TransportTestServer _a = TransportTestServer.Create(1);
    private readonly TransportTestServer _b = TransportTestServer.Create(2, LimitedOptions());
    private HttpClient? _client;

    private HttpClient Client => _client!;

    public async Task InitializeAsync()
    {
        await TransportTestServer.ConnectAllAsync(_a, _b);
        _client = TransportTestServer.RawClient(_a.Certificates.ClientCertificateFor(null), _b.Certificates.CurrentFingerprint!);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private static PeerTransportOptions LimitedOptions()
    {
        var options = TransportTestServer.FastOptions();
        options.MaxFrameBytes = 1000;
        options.MaxBatchBytes = 4000;
        options.BatchTargetBytes = 4000;
        options.MaxFramesPerBatch = 50;
        return options;
    }

    [Fact]
    public async Task A_valid_batch_is_answered_204_and_delivered_with_the_certificate_sender()
    {
        using var response = await _b.PostRawAsync(Client, PeerBatch.Encode([new byte[] { 1, 2 }, new byte[] { 3 }]));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal([(1, "0102"), (1, "03")], _b.Received.Select(r => (r.Sender, Convert.ToHexStringLower(r.Frame))));
    }

    [Fact]
    public async Task An_oversized_frame_is_answered_413_with_a_reason()
    {
        await AssertRefusedAsync(PeerBatch.Encode([new byte[10], new byte[1001]]), HttpStatusCode.RequestEntityTooLarge, "frame 1 of 1001 bytes exceeds the limit of 1000");
        Assert.Equal(1, _b.Transport.ListenerStatistics.RequestsTooLarge);
    }

    [Fact]
    public async Task An_oversized_batch_is_answered_413_with_a_reason()
    {
        var frames = Enumerable.Range(0, 5).Select(_ => (ReadOnlyMemory<byte>)new byte[900]).ToList();

        // Sent without a length, so the limit is found while reading.
        await AssertRefusedAsync(PeerBatch.Encode(frames), HttpStatusCode.RequestEntityTooLarge, "the batch exceeds the limit of 4000 bytes at frame 4", announceLength: false);
    }

    [Fact]
    public async Task Too_many_frames_are_answered_413_with_a_reason()
    {
        var frames = Enumerable.Range(0, 51).Select(_ => (ReadOnlyMemory<byte>)new byte[1]).ToList();

        await AssertRefusedAsync(PeerBatch.Encode(frames), HttpStatusCode.RequestEntityTooLarge, "51 frames exceed the limit of 50 per batch");
    }

    [Fact]
    public async Task A_body_announced_over_the_limit_is_answered_413_before_it_is_read()
    {
        await AssertRefusedAsync(new byte[5000], HttpStatusCode.RequestEntityTooLarge, "the body of 5000 bytes exceeds the limit of 4000");
    }

    public static TheoryData<string, string> GarbageBodies() => new()
    {
        { "", "shorter than the batch header" },
        { "0100", "shorter than the batch header" },
        { "0200000001" + "00000001" + "aa", "batch version 2 is not 1" },
        { "0100000000", "at least one frame" },
        { "0100000002" + "00000001" + "aa", "ends before frame 1 of 2" },
        { "0100000001" + "00000003" + "aa", "ends inside frame 0 of 1" },
        { "0100000001" + "00000000", "frame 0 is empty" },
        { "0100000001" + "00000001" + "aa" + "bb", "bytes follow the last frame" },
        { "474554202f20485454502f312e310d0a", "batch version 71 is not 1" },
    };

    [Theory]
    [MemberData(nameof(GarbageBodies))]
    public async Task A_malformed_body_is_answered_400_and_the_listener_keeps_working(string hex, string reason)
    {
        await AssertRefusedAsync(Convert.FromHexString(hex), HttpStatusCode.BadRequest, reason);

        using var after = await _b.PostRawAsync(Client, PeerBatch.Encode([new byte[] { 7 }]));
        Assert.Equal(HttpStatusCode.NoContent, after.StatusCode);
        Assert.Single(_b.Received);
    }

    [Fact]
    public async Task Random_bodies_never_deliver_a_frame_or_crash_the_listener()
    {
        const int seed = 4242;
        var rng = new Random(seed);
        var valid = PeerBatch.Encode([new byte[] { 1, 2, 3 }, new byte[] { 4 }]);
        for (var i = 0; i < 40; i++)
        {
            var body = (byte[])valid.Clone();
            body[rng.Next(body.Length)] ^= (byte)rng.Next(1, 256);
            if (rng.Next(3) == 0)
            {
                body = body[..rng.Next(body.Length)];
            }

            using var response = await _b.PostRawAsync(Client, body);
            Assert.True(
                response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge,
                $"seed {seed}, body {Convert.ToHexStringLower(body)}: {response.StatusCode}");
        }

        // Whatever was accepted parsed as a well-formed batch; the listener still serves.
        using var after = await _b.PostRawAsync(Client, PeerBatch.Encode([new byte[] { 9 }]));
        Assert.Equal(HttpStatusCode.NoContent, after.StatusCode);
    }

    [Fact]
    public async Task Other_routes_and_methods_are_refused()
    {
        using var notFound = await Client.PostAsync(new Uri(_b.BaseAddress, "/peer/v2/messages"), new ByteArrayContent(PeerBatch.Encode([new byte[] { 1 }])));
        using var notAllowed = await Client.GetAsync(new Uri(_b.BaseAddress, PeerListener.MessagesPath));

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, notAllowed.StatusCode);
        Assert.Empty(_b.Received);
    }

    [Fact]
    public async Task A_sender_whose_frame_the_peer_refuses_drops_it_counts_it_and_goes_on()
    {
        // The sender's own limit is larger than the receiver's: the receiver answers 413, which is not retried.
        _a.Transport.Send(2, new byte[2000]);
        await TransportTestServer.EventuallyAsync(() => _a.ReachabilityOf(2).FramesRejected == 1, "the big frame to be refused");
        Assert.Equal(0, _a.ReachabilityOf(2).ConsecutiveFailures);
        Assert.Equal(0, _a.ReachabilityOf(2).QueuedFrames);

        _a.Transport.Send(2, Encoding.UTF8.GetBytes("small"));
        await _b.WaitForFramesAsync(1);
        Assert.Equal("small", Encoding.UTF8.GetString(_b.Received.Single().Frame));
    }

    private async Task AssertRefusedAsync(byte[] body, HttpStatusCode status, string reason, bool announceLength = true)
    {
        using var response = announceLength
            ? await _b.PostRawAsync(Client, body)
            : await Client.PostAsync(new Uri(_b.BaseAddress, PeerListener.MessagesPath), new UnknownLengthContent(body));

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_b.Received);
    }

    /// <summary>A body without Content-Length (HTTP/2 DATA frames until END_STREAM).</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
