// References: src/Proactive.Protocols/Machines/Outbox.cs (Persist), ServerController.ErasePrefix
// (tombstones); docs/NODE.md "Storage" (durability).
using System.Security.Cryptography;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Storage;

/// <summary>
/// The writes of one protocol step: puts and erasures in the public and private spaces, applied by
/// <see cref="NodeStore.Commit"/> in the order they were added, in one SQLite transaction that is
/// durable before it returns. Values are copied in (so a caller cannot change the batch by holding
/// on to an array) and wiped on <see cref="Dispose"/>.
/// </summary>
public sealed class StoreBatch : IDisposable
{
    /// <summary>Keys are short paths ("controller/shares"); a kilobyte leaves room and bounds the index.</summary>
    public const int MaxKeyLength = 1024;

    private readonly List<StoreOperation> _operations = [];

    /// <summary>Number of operations.</summary>
    public int Count => _operations.Count;

    internal IReadOnlyList<StoreOperation> Operations => _operations;

    /// <summary>
    /// The batch for a controller step, with the simulator's semantics (Simulator.ApplyOutputs): every
    /// write in order, each in the space <paramref name="policy"/> gives its key; then every tombstone
    /// <c>erase:K</c> deletes K, from whichever space holds it, after the writes. The tombstones
    /// themselves are not stored.
    /// </summary>
    /// <exception cref="ArgumentException">A key is empty, too long, or a tombstone names no key (a bug in the protocol code).</exception>
    public static StoreBatch FromPersisted(IEnumerable<PersistRequest> persisted, KeySpacePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(persisted);
        ArgumentNullException.ThrowIfNull(policy);
        var batch = new StoreBatch();
        var tombstones = new List<string>();
        foreach (var write in persisted)
        {
            ArgumentNullException.ThrowIfNull(write);
            if (write.Key.StartsWith(ServerController.ErasePrefix, StringComparison.Ordinal))
            {
                tombstones.Add(write.Key[ServerController.ErasePrefix.Length..]);
                continue;
            }

            batch.Put(policy.Classify(write.Key), write.Key, write.Value);
        }

        foreach (var key in tombstones)
        {
            batch.EraseEverywhere(key);
        }

        return batch;
    }

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/> in <paramref name="space"/>, replacing it; the key is removed from the other space, so a key lives in one space only.</summary>
    public StoreBatch Put(DataSpace space, string key, ReadOnlySpan<byte> value)
    {
        CheckSpace(space);
        CheckKey(key);
        _operations.Add(new StoreOperation(StoreOperationKind.Put, space, key, value.ToArray()));
        return this;
    }

    /// <summary>Deletes <paramref name="key"/> from <paramref name="space"/> (nothing if absent). A private erasure is scrubbed from the files after the commit.</summary>
    public StoreBatch Erase(DataSpace space, string key)
    {
        CheckSpace(space);
        CheckKey(key);
        _operations.Add(new StoreOperation(StoreOperationKind.Erase, space, key, null));
        return this;
    }

    /// <summary>Deletes <paramref name="key"/> from both spaces: what a controller tombstone means.</summary>
    public StoreBatch EraseEverywhere(string key)
    {
        Erase(DataSpace.Private, key);
        return Erase(DataSpace.Public, key);
    }

    /// <summary>Deletes every key of <paramref name="space"/> that starts with <paramref name="prefix"/> (e.g. before replacing public data with a peer's verified copy).</summary>
    public StoreBatch ErasePrefix(DataSpace space, string prefix)
    {
        CheckSpace(space);
        CheckKey(prefix);
        _operations.Add(new StoreOperation(StoreOperationKind.ErasePrefix, space, prefix, null));
        return this;
    }

    /// <summary>Wipes the copied values.</summary>
    public void Dispose()
    {
        foreach (var operation in _operations)
        {
            if (operation.Value is { } value)
            {
                CryptographicOperations.ZeroMemory(value);
            }
        }

        _operations.Clear();
    }

    /// <summary>A key (or prefix) the store accepts: 1..<see cref="MaxKeyLength"/> characters, no NUL, not a tombstone.</summary>
    internal static void CheckKey(string key, string parameterName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length is 0 or > MaxKeyLength)
        {
            throw new ArgumentException($"A key is 1 to {MaxKeyLength} characters, got {key.Length}.", parameterName);
        }

        if (key.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A key cannot contain NUL.", parameterName);
        }

        if (key.StartsWith(ServerController.ErasePrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Keys starting with '{ServerController.ErasePrefix}' are tombstones, never stored; use Erase.", parameterName);
        }
    }

    private static void CheckSpace(DataSpace space)
    {
        if (space is not (DataSpace.Public or DataSpace.Private))
        {
            throw new ArgumentOutOfRangeException(nameof(space), space, "Unknown data space.");
        }
    }
}

internal enum StoreOperationKind
{
    Put,
    Erase,
    ErasePrefix,
}

internal sealed record StoreOperation(StoreOperationKind Kind, DataSpace Space, string Key, byte[]? Value);
