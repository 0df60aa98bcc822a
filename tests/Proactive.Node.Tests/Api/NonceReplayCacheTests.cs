using Proactive.Node.Api;

namespace Proactive.Node.Tests.Api;

/// <summary>The replay cache: time-windowed, bounded, and refusing rather than forgetting at its cap.</summary>
public sealed class NonceReplayCacheTests
{
    [Fact]
    public void A_nonce_is_a_replay_until_it_expires_then_forgotten()
    {
        var cache = new NonceReplayCache();

        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("a", 1, expiresAtMs: 1000, nowMs: 0, out _));
        Assert.Equal(NonceCheck.Replayed, cache.TryRecord("a", 1, 1500, 999, out _));
        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("b", 1, 1200, 999, out _));
        Assert.Equal(2, cache.Count);

        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("a", 1, 2000, 1000, out _));
        Assert.Equal(2, cache.Count); // a's first use expired at 1000; b's and a's second remain
    }

    [Fact]
    public void An_already_expired_request_is_not_remembered()
    {
        var cache = new NonceReplayCache();

        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("a", 7, expiresAtMs: 10, nowMs: 10, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void At_the_per_handle_cap_one_handle_is_refused_while_others_are_served()
    {
        var cache = new NonceReplayCache(maxEntries: 10, maxEntriesPerHandle: 2);
        cache.TryRecord("a", 1, 500, 0, out _);
        cache.TryRecord("a", 2, 800, 0, out _);

        Assert.Equal(NonceCheck.Full, cache.TryRecord("a", 3, 900, 100, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(400), retryAfter);
        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("b", 3, 900, 100, out _));

        // Still a replay at the cap: refusing is never forgetting.
        Assert.Equal(NonceCheck.Replayed, cache.TryRecord("a", 2, 900, 100, out _));
        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("a", 3, 900, 500, out _));
    }

    [Fact]
    public void At_the_global_cap_every_new_nonce_is_refused_until_one_expires()
    {
        var cache = new NonceReplayCache(maxEntries: 2, maxEntriesPerHandle: 2);
        cache.TryRecord("a", 1, 300, 0, out _);
        cache.TryRecord("b", 1, 600, 0, out _);

        Assert.Equal(NonceCheck.Full, cache.TryRecord("c", 1, 900, 0, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(300), retryAfter);
        Assert.Equal(NonceCheck.Recorded, cache.TryRecord("c", 1, 900, 300, out _));
    }

    [Fact]
    public void Caps_must_make_sense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NonceReplayCache(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NonceReplayCache(1, 2));
    }
}
