namespace Extensions.Modules.Gateway.Contracts;

/// <summary>Recent invocations with their outcome and usage, newest first; what <c>GET /api/admin/invocations</c> and the console list.</summary>
public interface IInvocationLog
{
    Task<IReadOnlyList<InvocationEntry>> ListAsync(InvocationQuery query, CancellationToken cancellationToken);
}

/// <summary>Filters; null means any. <see cref="BeforeId"/> pages backwards (the last id of the previous page).</summary>
public sealed record InvocationQuery(string? TenantId, string? ExtensionId = null, string? InstallId = null, long? BeforeId = null, int Limit = 100);

/// <summary>One dispatched request: who, which endpoint, how it ended (<see cref="Code"/> is <c>ok</c> or a problem code) and what it cost.</summary>
public sealed record InvocationEntry(
    long Id, long At, string TenantId, string ExtensionId, string InstallId, string Version, string RequestId, string Method, string Endpoint,
    long Status, string Code, double DurationMs, long Fuel, long MemoryBytes, long HostCalls);
