namespace Extensions.Modules.Runner.Contracts;

/// <summary>Negative return values of <c>ext-v1</c> imports. Wire format for guests: never renumber, only add.</summary>
public static class AbiCodes
{
    public const int Absent = -1;
    public const int Denied = -2;
    public const int Invalid = -3;
    public const int Limit = -4;
    public const int Internal = -5;
    public const int Timeout = -6;

    /// <summary><c>kv_put</c>/<c>kv_delete</c>: the key's revision is not the one the guest expected.</summary>
    public const int Conflict = -7;

    /// <summary>KV quota: the value is larger than the per-value limit.</summary>
    public const int ValueTooLarge = -8;

    /// <summary>KV quota: the install already holds the maximum number of keys.</summary>
    public const int TooManyKeys = -9;

    /// <summary>KV quota: the install's stored bytes would exceed its limit.</summary>
    public const int StorageFull = -10;

    /// <summary><c>http_fetch</c>: the destination is not allowed (host not consented, or a refused address).</summary>
    public const int EgressDenied = -11;
}
