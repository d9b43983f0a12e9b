namespace Extensions.Modules.Runner.Contracts;

/// <summary>One request for a guest, minted by the host. The worker only ever sees the id the host chose for it.</summary>
public sealed record InvocationRequest
{
    public required string TenantId { get; init; }
    public required string ExtensionId { get; init; }
    public required string InstallId { get; init; }
    public required string Version { get; init; }
    public required string RequestId { get; init; }

    /// <summary><c>sha256:</c> hash of the Wasm module; the worker verifies the bytes at <see cref="ModulePath"/> against it.</summary>
    public required string ModuleHash { get; init; }
    public required string ModulePath { get; init; }

    public required InvocationLimits Limits { get; init; }
    public required GuestHttpRequest Request { get; init; }

    /// <summary>Values behind <c>ctx_get</c>: tenant, extension, install, version, request_id, user.*.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Context { get; init; } = [];

    /// <summary>The install's configuration, each value as JSON text (behind <c>config_get</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Config { get; init; } = [];

    /// <summary>Capabilities the tenant's admin consented to for this install.</summary>
    public IReadOnlySet<string> Grants { get; init; } = new HashSet<string>();

    /// <summary>Secret names the install's manifest declares: the only names <c>secret_get</c> answers for. Host side only.</summary>
    public IReadOnlyList<string> SecretNames { get; init; } = [];

    /// <summary>Hosts <c>http_fetch</c> may reach: exact names or <c>*.suffix</c>. Empty denies all egress. Host side only.</summary>
    public IReadOnlyList<string> EgressHosts { get; init; } = [];
}

/// <summary>The HTTP request as the guest sees it (already filtered by the gateway's header policy).</summary>
public sealed record GuestHttpRequest(
    string Method,
    string Path,
    string Query,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    IReadOnlyList<KeyValuePair<string, string>> Params,
    byte[] Body);

/// <summary>Per-invocation quotas, already clamped to the operator's caps.</summary>
public sealed record InvocationLimits(long Fuel, long MemoryBytes, int TimeoutMs, int MaxResponseBytes, int MaxLogBytes);
