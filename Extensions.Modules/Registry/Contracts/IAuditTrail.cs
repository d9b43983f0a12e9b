namespace Extensions.Modules.Registry.Contracts;

/// <summary>The audit trail as the console reads it: one tenant's entries, newest first, in pages (the admin API reads the same rows).</summary>
public interface IAuditTrail
{
    /// <param name="beforeId">Only entries older than this one (the last id of the previous page); null for the newest.</param>
    Task<IReadOnlyList<AuditEntry>> ListAsync(string tenantId, string? extensionId, string? subject, long? beforeId, int limit, CancellationToken cancellationToken);
}

/// <summary>One audit entry: who (<see cref="Actor"/>: a key or user id, or <c>system</c>) did what to which subject.</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string? TenantId, string Actor, string Action, string Subject, string? ExtensionId, string Detail);
