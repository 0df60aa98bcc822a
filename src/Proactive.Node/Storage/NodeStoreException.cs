namespace Proactive.Node.Storage;

/// <summary>Why a server's storage could not be opened or used; the message says what to do about it.</summary>
public enum StoreError
{
    /// <summary>The ROM file does not exist: the directory was never provisioned (<c>proactive provision</c>).</summary>
    RomMissing,

    /// <summary>The ROM file exists but is not a valid ROM record.</summary>
    RomInvalid,

    /// <summary>The store file does not exist and the caller asked to open an existing one.</summary>
    StoreMissing,

    /// <summary>A WAL or shared-memory file lies next to a missing store file: creating a new store there could replay another database's log.</summary>
    OrphanedLog,

    /// <summary>The file is not an SQLite database, or SQLite reports it corrupt (quick_check failed).</summary>
    Corrupt,

    /// <summary>The file is an SQLite database but not a Proactive store (wrong application id), or an empty file left by an interrupted creation.</summary>
    NotAProactiveStore,

    /// <summary>The store was written by a different schema version than this build reads.</summary>
    SchemaVersionMismatch,

    /// <summary>The store belongs to another server than the ROM names (server id or start key differ).</summary>
    IdentityMismatch,

    /// <summary>SQLite refused a setting the store's guarantees depend on (WAL, synchronous=FULL, secure_delete).</summary>
    UnsupportedSetting,

    /// <summary>Any other I/O failure while opening.</summary>
    Io,
}

/// <summary>
/// A server's storage cannot be used as it is. Thrown by <see cref="NodeStore.Open"/> (and provisioning)
/// instead of ever recreating over existing data: the operator decides (move the file away and let the
/// server recover from its peers, restore a backup, fix the permissions).
/// </summary>
public sealed class NodeStoreException : Exception
{
    public NodeStoreException(StoreError error, string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Path = path;
    }

    /// <summary>What went wrong, for callers that react differently (a missing store is recoverable from peers; a corrupt one needs an operator).</summary>
    public StoreError Error { get; }

    /// <summary>The file concerned.</summary>
    public string Path { get; }
}
