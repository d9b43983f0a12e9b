using Extensions.Modules.HostApi.Contracts;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.HostApi;

/// <summary>
/// <c>GET /api/admin/logs</c>: guest log lines, newest first, of the caller's own tenant only (an admin key of tenant A never
/// sees tenant B's lines). Filters: <c>extension</c>, <c>install</c>, <c>requestId</c>, <c>level</c>; paged with <c>before</c> (an id); <c>limit</c> 1–1000 (default 100).
/// </summary>
internal static class GuestLogEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/admin/logs", ListAsync)
            .RequireAuthorization(CallerIdentity.AdminPolicy)
            .WithName("ListGuestLogs")
            .WithTags("Admin");

    private static async Task<IResult> ListAsync(string? extension, string? install, string? requestId, string? level, long? before, int? limit,
        HttpContext context, GuestLogStore logs, CancellationToken ct)
    {
        var caller = CallerIdentity.From(context.User)!;
        return Results.Ok(await logs.ListAsync(caller.TenantId, new GuestLogQuery(extension, install, requestId, level, before, Math.Clamp(limit ?? 100, 1, 1000)), ct));
    }
}
