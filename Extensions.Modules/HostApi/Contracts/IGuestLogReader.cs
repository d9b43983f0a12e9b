namespace Extensions.Modules.HostApi.Contracts;

/// <summary>
/// Guest log lines of one tenant, newest first; what <c>GET /api/admin/logs</c> and the console show. The tenant is not a filter
/// but the scope: there is no way to ask for lines of a tenant other than the one passed, and callers pass their own.
/// </summary>
public interface IGuestLogReader
{
    Task<IReadOnlyList<GuestLogLine>> ListAsync(string tenantId, GuestLogQuery query, CancellationToken cancellationToken);
}

/// <summary>Filters; null means any. <see cref="Level"/> is <c>debug</c>, <c>info</c>, <c>warn</c> or <c>error</c>. <see cref="BeforeId"/> pages backwards.</summary>
public sealed record GuestLogQuery(string? ExtensionId = null, string? InstallId = null, string? RequestId = null, string? Level = null, long? BeforeId = null, int Limit = 100);

/// <summary>One line a guest logged while serving a request.</summary>
public sealed record GuestLogLine(long Id, long At, string TenantId, string ExtensionId, string InstallId, string RequestId, string Level, string Message);
