namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// An install's secrets as the admin manages them: set or rotated by name, listed by name and time only. Values go in and
/// never come out (only a granted <c>secret_get</c> reads them). Implemented by the module that stores them (HostApi).
/// </summary>
public interface IInstallSecrets
{
    /// <summary>The names the installed version declares (set or not), then any still stored under a name it no longer declares.</summary>
    /// <returns><c>null</c> when the extension is not installed for the tenant.</returns>
    Task<IReadOnlyList<SecretStatus>?> ListAsync(string tenantId, string extensionId, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) a declared secret and audits that it was set, never its value.</summary>
    /// <returns>When it was stored.</returns>
    Task<DateTimeOffset> SetAsync(string tenantId, string extensionId, string name, ReadOnlyMemory<byte> value, string actor, CancellationToken cancellationToken);
}

/// <summary>One secret name: whether the manifest declares it and when a value was last stored (null: not set).</summary>
public sealed record SecretStatus(string Name, bool Declared, DateTimeOffset? UpdatedAt);
