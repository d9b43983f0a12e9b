using Extensions.Modules.Common;
using Extensions.Modules.Registry.Auth;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Registry.Endpoints;

/// <summary>
/// Tenant users under <c>/api/admin/tenants/{tenantId}/users</c> (admin keys only): create (role <c>admin</c> or <c>user</c>; a
/// password is generated and returned once when none is sent), list (never a hash), disable, and set a new password. Disabling
/// and a new password both end the user's console sessions.
/// </summary>
internal static class UserEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var users = endpoints.MapGroup("/api/admin/tenants/{tenantId}/users").RequireAuthorization(CallerIdentity.AdminPolicy).WithTags("Admin");
        users.MapPost("", CreateAsync).WithName("CreateUser");
        users.MapGet("", ListAsync).WithName("ListUsers");
        users.MapPost("/{name}/disable", DisableAsync).WithName("DisableUser");
        users.MapPut("/{name}/password", SetPasswordAsync).WithName("SetUserPassword");
    }

    internal sealed record UserBody(string? Name, string? Role, string? Password);

    internal sealed record PasswordBody(string? Password);

    private static async Task<IResult> CreateAsync(string tenantId, UserBody body, HttpContext context, TenantUsers users)
    {
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "name is required");
        }

        var (user, generated) = await users.CreateAsync(tenantId, body.Name, body.Role ?? CallerIdentity.UserRole, body.Password,
            AdminEndpoints.Actor(context), context.RequestAborted);
        return Results.Created($"/api/admin/tenants/{tenantId}/users/{user.Name}", new
        {
            user.Id, tenant = user.Tenant, user.Name, user.Role, password = generated,
            note = generated is null ? null : "store this password now: it is not shown again",
        });
    }

    private static async Task<IResult> ListAsync(string tenantId, HttpContext context, RegistryStore store, TenantUsers users)
    {
        await EnsureTenantAsync(tenantId, store, context.RequestAborted);
        return Results.Ok(await users.ListAsync(tenantId, context.RequestAborted));
    }

    private static async Task<IResult> DisableAsync(string tenantId, string name, HttpContext context, RegistryStore store, TenantUsers users)
    {
        await EnsureTenantAsync(tenantId, store, context.RequestAborted);
        if (!await users.DisableAsync(tenantId, name, AdminEndpoints.Actor(context), context.RequestAborted))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"tenant '{tenantId}' has no enabled user '{name}'");
        }

        return Results.Ok(new { tenant = tenantId, name = TenantUsers.Normalise(name), disabled = true });
    }

    private static async Task<IResult> SetPasswordAsync(string tenantId, string name, PasswordBody? body, HttpContext context, RegistryStore store, TenantUsers users)
    {
        await EnsureTenantAsync(tenantId, store, context.RequestAborted);
        var result = await users.SetPasswordAsync(tenantId, name, body?.Password, AdminEndpoints.Actor(context), context.RequestAborted)
            ?? throw new ExtensionsException(ProblemCodes.NotFound, 404, $"tenant '{tenantId}' has no user '{name}'");
        return Results.Ok(new
        {
            tenant = tenantId, name = TenantUsers.Normalise(name), password = result.Length == 0 ? null : result,
            note = result.Length == 0 ? "password changed; the user's sessions have ended" : "store this password now: it is not shown again",
        });
    }

    private static async Task EnsureTenantAsync(string tenantId, RegistryStore store, CancellationToken ct)
    {
        if (!await store.TenantExistsAsync(tenantId, ct))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"tenant '{tenantId}' does not exist");
        }
    }
}
