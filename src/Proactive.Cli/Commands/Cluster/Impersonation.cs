using System.Net;
using Microsoft.Data.Sqlite;
using Proactive.Crypto.Random;
using Proactive.Node.Configuration;
using Proactive.Node.Hosting;
using Proactive.Node.Storage;
using Proactive.Node.Transport;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// The attack of issue 4's impersonation test (toolkit Table 1, remark 3): an attacker who broke into
/// server i in period p holds its period key S_i(p) and its TLS key. Just before period p + 1 starts it
/// announces, in server i's name, keys K_i(p + 1) of its own, signed with the stolen S_i(p), to every
/// other server. The peers see two K_i signed with S_i(p) (equivocation: both are discarded), server
/// i's own K_i is then missing from the decided KeyTable, and server i raises "impersonation detected".
/// </summary>
internal static class Impersonation
{
    /// <summary>How long before the period start the forged entry is sent (peers buffer entries of the next period).</summary>
    private static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(400);

    internal sealed record StolenKeys(ulong Period, PeriodKeys Keys, PeerCertificate Tls);

    /// <summary>Reads server <paramref name="id"/>'s latest period keys and TLS certificate from its store (read-only, it keeps running).</summary>
    internal static StolenKeys? Steal(ServerDirectory server, int id)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = server.StorePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        var prefix = NodeKeySpace.OwnPeriodKeys(0)[..^1];
        command.CommandText = $"SELECT key, value FROM {StoreAttacks.PrivateTable} WHERE substr(key, 1, length($prefix)) = $prefix";
        command.Parameters.AddWithValue("$prefix", prefix);
        var latest = (Period: (ulong?)null, Value: (byte[]?)null);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (ulong.TryParse(reader.GetString(0).AsSpan(prefix.Length), out var period) && (latest.Period is null || period > latest.Period))
                {
                    latest = (period, (byte[])reader["value"]);
                }
            }
        }

        if (latest is not { Period: { } p, Value: { } value } || !NodeKeyCodec.TryDecodeOwnKeys(value, id, p, out var keys))
        {
            return null;
        }

        using var tls = connection.CreateCommand();
        tls.CommandText = $"SELECT value FROM {StoreAttacks.PrivateTable} WHERE key = $key";
        tls.Parameters.AddWithValue("$key", NodeKeySpace.OwnTlsCertificate(p));
        if (tls.ExecuteScalar() is not byte[] tlsBytes || !NodeKeyCodec.TryDecodeTls(tlsBytes, p, out var certificate))
        {
            keys.Dispose();
            return null;
        }

        return new StolenKeys(p, keys, certificate);
    }

    /// <summary>Waits for the start of period <c>stolen.Period + 1</c> and sends the forged K_i to every other server.</summary>
    internal static async Task<string> RunAsync(ClusterConfig config, int id, StolenKeys stolen, DateTimeOffset periodStart, CancellationToken cancel)
    {
        var target = stolen.Period + 1;
        using var forgedKeys = PeriodKeys.Generate(id, target, SystemRandomSource.Instance);
        using var forgedTls = PeerCertificate.Create(id, target, DateTimeOffset.UtcNow);
        var entry = SignedKeyTableEntry.Create(new KeyTableEntry(forgedKeys.PublicKeys, forgedTls.Fingerprint), config.NetworkId, forgedKeys.Signing, stolen.Keys.Signing);
        var frame = OpenFrame.Encode(
            config.Suite.Id, config.NetworkId, id, ServerController.KeyTableOf(target),
            new OutboundMessage(null, 0, KeyTableWire.EntryRound, KeyTableWire.EntryType, entry.Encode(), false));

        using var certificates = new PeriodCertificates(id, TimeSpan.FromMinutes(1));
        certificates.Install(stolen.Tls);
        certificates.SwitchTo(stolen.Period);
        await using var transport = new PeerTransport(
            new PeerTransportOptions { ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0) },
            certificates,
            new AnyPeer(),
            (_, _, _) => ValueTask.CompletedTask);
        foreach (var peer in config.Servers.Where(s => s.Id != id))
        {
            transport.AddPeer(peer.Id, new Uri($"https://{peer.Host}:{peer.PeerPort}/"));
        }

        var wait = periodStart - Lead - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancel);
        }

        await transport.StartAsync(cancel);
        transport.SendToAll(frame);
        // Let the batches go out (the transport sends in the background and retries).
        await Task.Delay(TimeSpan.FromSeconds(2), cancel);
        var delivered = transport.Reachability().Count(r => r.FramesSent > 0);
        return $"sent a forged K_{id} for period {target}, signed with the stolen S_{id}({stolen.Period}), to {delivered} of {config.Servers.Count - 1} peers";
    }

    /// <summary>The attacker accepts whoever answers.</summary>
    private sealed class AnyPeer : IPeerPinning
    {
        public bool IsPinned(int peerId, ReadOnlySpan<byte> certificateFingerprint) => true;
    }
}
