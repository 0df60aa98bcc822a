using Proactive.Node.Api;
using Proactive.Node.StatusPage;

namespace Proactive.Node.Tests.StatusPage;

public sealed class StatusHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Refreshes_are_kept_oldest_first_up_to_the_bound_and_a_period_committed_again_keeps_its_latest()
    {
        var history = new StatusHistory();
        for (var period = 1UL; period <= StatusHistory.MaxRefreshes + 5; period++)
        {
            history.RefreshCommitted(new RefreshRecord(period, T0, T0.AddSeconds(period), period));
        }

        history.RefreshCommitted(new RefreshRecord(StatusHistory.MaxRefreshes + 5, null, T0.AddHours(1), 99));

        var kept = history.Refreshes;
        Assert.Equal(StatusHistory.MaxRefreshes, kept.Count);
        Assert.Equal(6UL, kept[0].Period);
        Assert.Equal(99, kept[^1].DurationMs);
        Assert.Single(kept, r => r.Period == StatusHistory.MaxRefreshes + 5);
        Assert.Equal(T0.AddHours(1), history.LastCommittedAt);
    }

    [Fact]
    public void KeyTables_are_kept_up_to_the_bound_one_per_period()
    {
        var history = new StatusHistory();
        Assert.Null(history.LastCommittedAt);
        for (var period = 1UL; period <= StatusHistory.MaxKeyTables + 2; period++)
        {
            history.KeyTableDecided(new KeyTableRecord(period, T0, $"t{period}", null));
        }

        history.KeyTableDecided(new KeyTableRecord(StatusHistory.MaxKeyTables + 2, T0, "again", "own"));

        Assert.Equal(StatusHistory.MaxKeyTables, history.KeyTables.Count);
        Assert.Equal(3UL, history.KeyTables[0].Period);
        Assert.Equal("again", history.KeyTables[^1].Fingerprint);
        Assert.Empty(history.Refreshes);
    }
}
