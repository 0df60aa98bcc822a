// References: docs/BRIEF.md section 5 (secrets of any size, shares refreshed and recovered every period);
// docs/API.md "POST /v1/data/batch" and "PUT /v1/dealings" (bulk import); RFC 9180 (HPKE).
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Protocols.Application;

namespace Proactive.Client;

/// <summary>
/// Bulk import of single writer/reader secrets: each secret gets its own data key and dealing as with
/// <see cref="StoreAsync"/>, but every server receives all its shares of a chunk in one sealed upload and
/// the chunk is stored by one agreed request (all or none), so an application can bring 100,000 secrets
/// in a few hundred requests instead of half a million.
/// </summary>
public sealed partial class ProactiveClient
{
    /// <summary>Most secrets one chunk carries (the server takes at most this many per batch and per upload).</summary>
    public const int MaxSecretsPerChunk = 4096;

    /// <summary>Most request body bytes a chunk aims for (the server's limit is about 1.4 MB).</summary>
    private const int ChunkBodyBytes = 1_200_000;

    /// <summary>Stores <paramref name="secrets"/> as secret-single entries, in chunks; returns how many were stored.</summary>
    /// <exception cref="ProactiveApiException">A chunk was refused (an id taken, the quota): the chunks before it are stored.</exception>
    public async Task<int> StoreSecretsAsync(IReadOnlyList<(string Id, byte[] Value)> secrets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var networkKey = TrustedNetworkKey(cluster);
        var group = networkKey.Suite.Group;
        var random = SystemRandomSource.Instance;
        var appHex = Convert.ToHexStringLower(credentials.ApplicationId);
        var stored = 0;
        var next = 0;
        while (next < secrets.Count)
        {
            var chunk = new List<(string Id, byte[] Value)>();
            var size = 64;
            while (next < secrets.Count && chunk.Count < MaxSecretsPerChunk)
            {
                var (id, value) = secrets[next];
                CheckEntry(id, value.Length);
                var entrySize = id.Length + ((value.Length + DataKeySharing.NonceLength + DataKeySharing.TagLength + 2) / 3 * 4) + 120;
                if (chunk.Count > 0 && size + entrySize > ChunkBodyBytes)
                {
                    break;
                }

                chunk.Add((id, value));
                size += entrySize;
                next++;
            }

            var perServer = cluster.Servers.ToDictionary(s => s.Id, _ => new List<byte>());
            var entries = new JsonArray();
            foreach (var (id, value) in chunk)
            {
                var dealing = new byte[DataRecord.DealingLength];
                random.Fill(dealing);
                var (dataKey, shares) = DataKeySharing.Deal(group, cluster.ServerCount, cluster.Threshold, random);
                var encoded = new byte[group.ScalarLength];
                foreach (var server in cluster.Servers)
                {
                    group.EncodeScalar(shares[server.Id - 1], encoded);
                    perServer[server.Id].AddRange(dealing);
                    perServer[server.Id].AddRange(encoded);
                }

                CryptographicOperations.ZeroMemory(encoded);
                var ciphertext = DataKeySharing.Encrypt(group, dataKey, appHex, id, dealing, value, random);
                entries.Add(new JsonObject
                {
                    ["id"] = id,
                    ["type"] = "secret-single",
                    ["value"] = Convert.ToBase64String(ciphertext),
                    ["dealing"] = Convert.ToHexStringLower(dealing),
                });
            }

            // Servers between a period's start and its certificate cannot prove their new key yet: wait them out.
            var failures = cluster.Servers.ToDictionary(s => s.Id, _ => "not tried");
            for (var attempt = 0; attempt < SettleAttempts && cluster.ServerCount - failures.Count < cluster.ServerCount - cluster.Faults; attempt++)
            {
                if (attempt > 0)
                {
                    await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                }

                var kept = await Task.WhenAll(cluster.Servers.Where(s => failures.ContainsKey(s.Id))
                    .Select(server => HandSharesAsync(cluster, networkKey, server, credentials, perServer[server.Id], cancellationToken))).ConfigureAwait(false);
                foreach (var (server, error) in kept)
                {
                    if (error is null)
                    {
                        failures.Remove(server);
                    }
                    else
                    {
                        failures[server] = error;
                    }
                }
            }

            // The shares of servers that never kept theirs are not retried later: those servers recover them.
            foreach (var plain in perServer.Values)
            {
                CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plain));
            }

            if (cluster.ServerCount - failures.Count < cluster.ServerCount - cluster.Faults)
            {
                throw new ProactiveVerificationException($"Only {cluster.ServerCount - failures.Count} servers kept their shares of a chunk of {chunk.Count} secrets; n - f = {cluster.ServerCount - cluster.Faults} must.", failures);
            }

            var body = System.Text.Encoding.UTF8.GetBytes(new JsonObject { ["entries"] = entries }.ToJsonString());
            await SubmitAsync(cluster, HttpMethod.Post, "/v1/data/batch", body, LedgerAnswerJsonContext.Default.JsonNode, cancellationToken).ConfigureAwait(false);
            stored += chunk.Count;
        }

        return stored;
    }

    /// <summary>One server's shares of a chunk, sealed together to its dealing key (checked against the certified KeyTable) and handed over.</summary>
    private async Task<(int Server, string? Error)> HandSharesAsync(
        ClusterInfo cluster, GroupPublicKey networkKey, ClusterServerInfo server, ApplicationCredentials credentials, List<byte> plain, CancellationToken cancellationToken)
    {
        if (ApiOf(server) is not { } api)
        {
            return (server.Id, "the configuration gives it no API");
        }

        try
        {
            var (period, key, error) = await VerifiedDealingKeyAsync(cluster, networkKey, server, api, cancellationToken).ConfigureAwait(false);
            if (key is null)
            {
                return (server.Id, error);
            }

            var sealedShares = HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, key, DataKeySharing.DealtSharesInfo(cluster.Network, credentials.Handle), [],
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plain), SystemRandomSource.Instance).Encode();
            var body = System.Text.Encoding.UTF8.GetBytes(new JsonObject { ["period"] = period, ["shares"] = Convert.ToBase64String(sealedShares) }.ToJsonString());
            await ExchangeAsync(api, HttpMethod.Put, "/v1/dealings", body, Signing.Fresh, LedgerAnswerJsonContext.Default.JsonNode, cancellationToken, retry: false).ConfigureAwait(false);
            return (server.Id, null);
        }
        catch (ProactiveException e)
        {
            return (server.Id, e.Message);
        }
    }
}
