using Extensions.Modules.Common;
using Extensions.Modules.Gateway.Contracts;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Gateway;

/// <summary>
/// <c>GET /api/admin/invocations</c>: recent invocations with their outcome and usage, newest first. An admin key sees
/// every tenant's (optionally filtered by tenant, extension, install; paged with <c>before</c>); a tenant key or user sees its
/// own tenant's only, and asking for another tenant is refused.
/// </summary>
internal static class InvocationEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/admin/invocations", ListAsync)
            .RequireAuthorization()
            .WithName("ListInvocations")
            .WithTags("Admin");

    private static async Task<IResult> ListAsync(
        string? tenant, string? extension, string? install, long? before, int? limit, HttpContext context, InvocationRecorder recorder, CancellationToken ct)
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

        var rows = await recorder.ListAsync(new InvocationQuery(tenant, extension, install, before, Math.Clamp(limit ?? 100, 1, 1000)), ct);
        return Results.Ok(rows);
    }
}
