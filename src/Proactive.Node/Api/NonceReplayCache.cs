// References: docs/API.md "Applications: authentication" (a nonce seen for a handle within the window
// is a replay: 409); ApplicationRequestSigning.TimestampWindow.

namespace Proactive.Node.Api;

/// <summary>What <see cref="NonceReplayCache.TryRecord"/> decided.</summary>
public enum NonceCheck
{
    /// <summary>First use: remembered until its request's timestamp leaves the window.</summary>
    Recorded,

    /// <summary>The handle already used this nonce within the window.</summary>
    Replayed,

    /// <summary>The cache is at its cap (in all, or for this handle): the request is refused, nothing is forgotten early.</summary>
    Full,
}

/// <summary>
/// The nonces authenticated requests used, per handle, each kept exactly as long as a replay of its
/// request could still pass the timestamp check (until its timestamp + the window), in bounded memory.
/// Thread-safe.
/// </summary>
/// <remarks>
/// <para><b>At the cap</b> the cache refuses new nonces (<see cref="NonceCheck.Full"/>, which the API
/// answers with 503 <c>busy</c> and a <c>Retry-After</c> of when the oldest entry expires) rather than
/// forget unexpired ones: forgetting would let a captured request be replayed, refusing only delays
/// honest clients. A per-handle cap keeps one busy (or hostile, but registered) instance from filling
/// the cache for everyone.</para>
/// <para>Only nonces of requests whose signature verified are recorded, so nobody without a
/// registered key can fill it. Memory: about 100 bytes per entry, so the default cap holds at most
/// about 50 MB, which is 2,000 requests per second per server sustained for the 2-minute window.</para>
/// </remarks>
public sealed class NonceReplayCache
{
    /// <summary>Default cap on remembered nonces in all.</summary>
    public const int DefaultMaxEntries = 524_288;

    /// <summary>Default cap on remembered nonces of one handle.</summary>
    public const int DefaultMaxEntriesPerHandle = 262_144;

    private readonly object _gate = new();
    private readonly Dictionary<string, HashSet<UInt128>> _byHandle = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(string Handle, UInt128 Nonce), long> _expiry = new();

    /// <param name="maxEntries">Cap on remembered nonces in all.</param>
    /// <param name="maxEntriesPerHandle">Cap on remembered nonces of one handle (at most <paramref name="maxEntries"/>).</param>
    public NonceReplayCache(int maxEntries = DefaultMaxEntries, int maxEntriesPerHandle = DefaultMaxEntriesPerHandle)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntriesPerHandle, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxEntriesPerHandle, maxEntries);
        MaxEntries = maxEntries;
        MaxEntriesPerHandle = maxEntriesPerHandle;
    }

    /// <summary>Cap on remembered nonces in all.</summary>
    public int MaxEntries { get; }

    /// <summary>Cap on remembered nonces of one handle.</summary>
    public int MaxEntriesPerHandle { get; }

    /// <summary>Nonces remembered now (expired ones are dropped on the next call).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _expiry.Count;
            }
        }
    }

    /// <summary>
    /// Records that a handle used a nonce in a request that stays acceptable until a time, unless it
    /// already did or the cache is full; what has expired by now is dropped first.
    /// </summary>
    /// <param name="handle">The handle (or, for a registration, a key of its public key).</param>
    /// <param name="nonce">The nonce's 16 bytes as one number.</param>
    /// <param name="expiresAtMs">Unix milliseconds after which the request fails the timestamp check anyway.</param>
    /// <param name="nowMs">The server's clock, Unix milliseconds.</param>
    /// <param name="retryAfter">For <see cref="NonceCheck.Full"/>: when the oldest entry expires (at least 1 ms), else zero.</param>
    public NonceCheck TryRecord(string handle, UInt128 nonce, long expiresAtMs, long nowMs, out TimeSpan retryAfter)
    {
        ArgumentException.ThrowIfNullOrEmpty(handle);
        retryAfter = TimeSpan.Zero;
        lock (_gate)
        {
            Expire(nowMs);
            _byHandle.TryGetValue(handle, out var seen);
            if (seen is not null && seen.Contains(nonce))
            {
                return NonceCheck.Replayed;
            }

            if (expiresAtMs <= nowMs)
            {
                // Its request can no longer pass the timestamp check anywhere: nothing to remember.
                return NonceCheck.Recorded;
            }

            if (_expiry.Count >= MaxEntries || (seen?.Count ?? 0) >= MaxEntriesPerHandle)
            {
                _expiry.TryPeek(out _, out var oldest);
                retryAfter = TimeSpan.FromMilliseconds(Math.Max(1, oldest - nowMs));
                return NonceCheck.Full;
            }

            if (seen is null)
            {
                _byHandle[handle] = seen = [];
            }

            seen.Add(nonce);
            _expiry.Enqueue((handle, nonce), expiresAtMs);
            return NonceCheck.Recorded;
        }
    }

    private void Expire(long nowMs)
    {
        while (_expiry.TryPeek(out var entry, out var expiresAt) && expiresAt <= nowMs)
        {
            _expiry.Dequeue();
            if (_byHandle.TryGetValue(entry.Handle, out var seen) && seen.Remove(entry.Nonce) && seen.Count == 0)
            {
                _byHandle.Remove(entry.Handle);
            }
        }
    }
}
