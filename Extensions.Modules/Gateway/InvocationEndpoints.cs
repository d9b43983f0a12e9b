using Dapper;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Gateway;

/// <summary>
/// <c>GET /api/admin/invocations</c>: recent invocations with their outcome and usage, newest first. An admin key sees
/// every tenant's (optionally filtered); a tenant key sees its own tenant's only, and asking for another tenant is refused.
/// </summary>
internal static class InvocationEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/admin/invocations", ListAsync)
            .RequireAuthorization()
            .WithName("ListInvocations")
            .WithTags("Admin");

    private static async Task<IResult> ListAsync(
        string? tenant, string? extension, int? limit, HttpContext context, IDatabase database, InvocationRecorder recorder, CancellationToken ct)
    {
        var caller = CallerIdentity.From(context.User)
            ?? throw new ExtensionsException(ProblemCodes.Unauthenticated, 401, "send 'Authorization: Bearer <api key>'");
        if (!caller.IsAdmin)
        {
            if (tenant is not null && tenant != caller.TenantId)
            {
                throw new ExtensionsException(ProblemCodes.Forbidden, 403, "a tenant key sees its own tenant's invocations only");
            }

            tenant = caller.TenantId;
        }

        await recorder.FlushAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<InvocationRecord>(new CommandDefinition("""
            SELECT at AS At, tenant_id AS TenantId, extension_id AS ExtensionId, install_id AS InstallId, version AS Version,
                   request_id AS RequestId, method AS Method, endpoint AS Endpoint, status AS Status, code AS Code,
                   duration_ms AS DurationMs, fuel AS Fuel, memory_bytes AS MemoryBytes, host_calls AS HostCalls
            FROM gateway_invocations
            WHERE (@tenant IS NULL OR tenant_id = @tenant) AND (@extension IS NULL OR extension_id = @extension)
            ORDER BY id DESC LIMIT @limit
            """, new { tenant, extension, limit = Math.Clamp(limit ?? 100, 1, 1000) }, cancellationToken: ct));
        return Results.Ok(rows);
    }
}
