using Proactive.Cli.Commands.Cluster;

namespace Proactive.Cli.Tests.Cluster;

/// <summary>combine-stolen's arithmetic on real share-vector encodings of real Shamir sharings.</summary>
public sealed class StolenSharesTests : IDisposable
{
    private readonly OfflineCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    private string[] Steal(params int[] ids) =>
        [.. ids.Select(id => StoreAttacks.Steal(_cluster.Layout.Server(id), id, _cluster.Layout.StolenDirectory, DateTimeOffset.UtcNow)!.Path)];

    [Fact]
    public void Shares_of_one_period_reconstruct_the_network_key()
    {
        _cluster.CommitPeriod(7, 1, 2, 3, 4, 5);
        var result = StolenShares.TryCombine(_cluster.Group, OfflineCluster.Threshold, Steal(1, 3, 5), _cluster.NetworkKey);
        Assert.Equal(StolenShares.Outcome.Reconstructed, result.Outcome);
        Assert.Contains("reconstructed the network key", result.Message, StringComparison.Ordinal);
        Assert.Contains("period 7", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_t_plus_one_shares_of_one_period_also_reconstruct()
    {
        _cluster.CommitPeriod(7, 1, 2, 3, 4, 5);
        Assert.Equal(StolenShares.Outcome.Reconstructed, StolenShares.TryCombine(_cluster.Group, OfflineCluster.Threshold, Steal(1, 2, 3, 4, 5), _cluster.NetworkKey).Outcome);
    }

    [Fact]
    public void Shares_of_different_periods_do_not_combine()
    {
        // Period 7's sharing, then a refresh: the same secret on a new random polynomial.
        _cluster.CommitPeriod(7, 1, 2, 3, 4, 5);
        var early = Steal(1, 2);
        _cluster.CommitPeriod(8, 1, 2, 3, 4, 5);
        var late = Steal(3);

        var result = StolenShares.TryCombine(_cluster.Group, OfflineCluster.Threshold, [.. early, .. late], _cluster.NetworkKey);
        Assert.Equal(StolenShares.Outcome.DoNotCombine, result.Outcome);
        Assert.Equal("the shares do not combine (stolen in periods 7, 8: refreshed shares of different periods are unrelated).", result.Message);
    }

    [Fact]
    public void T_shares_are_too_few()
    {
        _cluster.CommitPeriod(7, 1, 2);
        var result = StolenShares.TryCombine(_cluster.Group, OfflineCluster.Threshold, Steal(1, 2), _cluster.NetworkKey);
        Assert.Equal(StolenShares.Outcome.TooFewShares, result.Outcome);
        Assert.Contains("at least t + 1 = 3", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_files_of_one_server_are_refused()
    {
        _cluster.CommitPeriod(7, 1, 2);
        var files = Steal(1, 2);
        var result = StolenShares.TryCombine(_cluster.Group, OfflineCluster.Threshold, [.. files, files[0]], _cluster.NetworkKey);
        Assert.Equal(StolenShares.Outcome.Unusable, result.Outcome);
    }

    [Fact]
    public void A_damaged_file_is_refused_not_thrown()
    {
        _cluster.CommitPeriod(7, 1);
        var file = Steal(1)[0];
        var bytes = File.ReadAllBytes(file);
        bytes[0] ^= 0xFF;
        File.WriteAllBytes(file, bytes);
        Assert.Equal(StolenShares.Outcome.Unusable, StolenShares.TryCombine(_cluster.Group, OfflineCluster.Threshold, [file], _cluster.NetworkKey).Outcome);
    }

    [Fact]
    public void The_network_key_is_found_in_a_store_when_no_server_answers()
    {
        _cluster.CommitPeriod(7, 4);
        Assert.Equal(_cluster.NetworkKey, CombineStolenCommand.FindNetworkKey(_cluster.Layout, _cluster.Group));
    }
}
