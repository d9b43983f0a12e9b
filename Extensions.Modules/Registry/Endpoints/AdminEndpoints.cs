using System.Text.Json;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Auth;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Registry.Installs;
using Extensions.Modules.Registry.Publishing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Endpoints;

/// <summary>The operator's API under <c>/api/admin</c>; every route needs an admin key.</summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/admin").RequireAuthorization(CallerIdentity.AdminPolicy).WithTags("Admin");
        admin.MapPost("/bundles", PublishAsync).DisableAntiforgery().WithName("PublishBundle");
        admin.MapGet("/extensions", ListExtensionsAsync).WithName("ListExtensions");
        admin.MapGet("/extensions/{extensionId}/versions/{version}", GetVersionAsync).WithName("GetVersion");
        admin.MapPost("/installs", InstallAsync).WithName("Install");
        admin.MapGet("/installs", ListInstallsAsync).WithName("ListInstalls");
        admin.MapPost("/installs/{tenant}/{extensionId}/enable", (string tenant, string extensionId, HttpContext context, InstallService installs) =>
            SetStateAsync(tenant, extensionId, "enabled", context, installs)).WithName("EnableInstall");
        admin.MapPost("/installs/{tenant}/{extensionId}/disable", (string tenant, string extensionId, HttpContext context, InstallService installs) =>
            SetStateAsync(tenant, extensionId, "disabled", context, installs)).WithName("DisableInstall");
        admin.MapDelete("/installs/{tenant}/{extensionId}", UninstallAsync).WithName("Uninstall");
        admin.MapGet("/extensions/{extensionId}", ShowExtensionAsync).WithName("ShowExtension");
        admin.MapGet("/installs/{tenant}/{extensionId}", InstallEndpoints.ShowAsync).WithName("ShowInstall");
        admin.MapPut("/installs/{tenant}/{extensionId}/config", InstallEndpoints.SetConfigAsync).WithName("SetInstallConfig");
        admin.MapGet("/installs/{tenant}/{extensionId}/upgrade", InstallEndpoints.PreviewUpgradeAsync).WithName("PreviewUpgrade");
        admin.MapPost("/installs/{tenant}/{extensionId}/upgrade", InstallEndpoints.UpgradeAsync).WithName("Upgrade");
        admin.MapPost("/installs/{tenant}/{extensionId}/rollback", InstallEndpoints.RollbackAsync).WithName("Rollback");
        admin.MapPost("/tenants", CreateTenantAsync).WithName("CreateTenant");
        admin.MapPost("/tenants/{tenantId}/keys", CreateKeyAsync).WithName("CreateTenantKey");
        admin.MapGet("/tenants/{tenantId}/keys", ListKeysAsync).WithName("ListTenantKeys");
        admin.MapDelete("/keys/{keyId}", RevokeKeyAsync).WithName("RevokeKey");
        admin.MapGet("/audit", ListAuditAsync).WithName("ListAudit");
    }

    private static async Task<IResult> PublishAsync(HttpContext context, PublishService publisher, IOptions<RegistryOptions> options)
    {
        if (!context.Request.HasFormContentType)
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "send multipart/form-data with parts 'bundle' (the bundle file) and 'signature' (its .sig file)");
        }

        if (context.Request.ContentLength > options.Value.MaxBundleBytes + 64 * 1024)
        {
            throw new ExtensionsException(ProblemCodes.PayloadTooLarge, 413, $"the upload is larger than the {options.Value.MaxBundleBytes}-byte bundle limit");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var bundle = form.Files["bundle"] ?? throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "part 'bundle' is missing");
        var signature = form.Files["signature"] is { } sigFile ? await ReadTextAsync(sigFile) : form["signature"].ToString();
        if (string.IsNullOrWhiteSpace(signature))
        {
            throw new ExtensionsException(ProblemCodes.SignatureRejected, 422, "part 'signature' is missing: bundles must be signed (see the 'sign' verb)");
        }

        if (bundle.Length > options.Value.MaxBundleBytes)
        {
            throw new ExtensionsException(ProblemCodes.PayloadTooLarge, 413, $"bundle is {bundle.Length} bytes; the limit is {options.Value.MaxBundleBytes}");
        }

        using var buffer = new MemoryStream((int)bundle.Length);
        await bundle.CopyToAsync(buffer, context.RequestAborted);
        var result = await publisher.PublishAsync(buffer.ToArray(), signature, Actor(context), context.RequestAborted);
        return result.AlreadyPublished ? Results.Ok(result) : Results.Created($"/api/admin/extensions/{result.ExtensionId}/versions/{result.Version}", result);
    }

    private static async Task<string> ReadTextAsync(IFormFile file)
    {
        if (file.Length > 64 * 1024)
        {
            throw new ExtensionsException(ProblemCodes.SignatureRejected, 422, "the signature file is too large to be a signature");
        }

        using var reader = new StreamReader(file.OpenReadStream());
        return await reader.ReadToEndAsync();
    }

    private static async Task<IResult> ListExtensionsAsync(RegistryStore store, CancellationToken ct)
    {
        var versions = await store.ListVersionsAsync(null, ct);
        return Results.Ok(versions.GroupBy(v => v.ExtensionId).Select(g => new
        {
            id = g.Key,
            versions = g.Select(v => new { v.Version, v.ContentHash, publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(v.PublishedAt) }),
        }));
    }

    private static async Task<IResult> GetVersionAsync(string extensionId, string version, RegistryStore store, InstallService installs, CancellationToken ct)
    {
        var row = await store.FindVersionAsync(extensionId, version, ct)
            ?? throw new ExtensionsException(ProblemCodes.NotFound, 404, $"version {extensionId}@{version} is not published");
        var bundle = await store.FindBundleAsync(row.ContentHash, ct);
        var manifest = await installs.LoadManifestAsync(row.ContentHash, ct);
        return Results.Ok(new
        {
            id = extensionId,
            version,
            contentHash = row.ContentHash,
            size = bundle?.Size,
            signerKeyId = bundle?.SignerKeyId,
            publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.PublishedAt),
            capabilities = manifest.Capabilities,
            egressHosts = manifest.EgressHosts,
            endpoints = manifest.Endpoints.Select(e => new { e.Method, e.Path }),
        });
    }

    internal sealed record InstallBody(string? ExtensionId, string? Tenant, string? Version, List<string>? Capabilities, List<string>? EgressHosts, JsonElement? Config);

    private static async Task<IResult> InstallAsync(InstallBody body, HttpContext context, InstallService installs)
    {
        if (string.IsNullOrWhiteSpace(body.ExtensionId))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "extensionId is required");
        }

        var result = await installs.InstallAsync(body.Tenant ?? Caller(context).TenantId, body.ExtensionId, body.Version,
            new Consent(body.Capabilities, body.EgressHosts), body.Config, Actor(context), context.RequestAborted);
        return Results.Ok(result);
    }

    private static async Task<IResult> SetStateAsync(string tenant, string extensionId, string state, HttpContext context, InstallService installs) =>
        Results.Ok(await installs.SetStateAsync(tenant, extensionId, state, Actor(context), context.RequestAborted));

    private static async Task<IResult> UninstallAsync(string tenant, string extensionId, HttpContext context, InstallService installs)
    {
        await installs.UninstallAsync(tenant, extensionId, Actor(context), context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> ListInstallsAsync(string? tenant, RegistryStore store, CancellationToken ct)
    {
        var rows = await store.ListInstallsAsync(tenant, ct);
        return Results.Ok(rows.Select(r => new
        {
            r.Id, tenant = r.TenantId, r.ExtensionId, r.Version, r.ContentHash, r.State, r.StateReason,
            granted = r.Capabilities, egressHosts = r.EgressHosts,
        }));
    }

    private static async Task<IResult> ShowExtensionAsync(string extensionId, RegistryStore store, CancellationToken ct)
    {
        var versions = await store.ListVersionsAsync(extensionId, ct);
        if (versions.Count == 0)
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"extension '{extensionId}' has no published version");
        }

        var provenance = new List<object>();
        foreach (var v in versions)
        {
            var bundle = await store.FindBundleAsync(v.ContentHash, ct);
            provenance.Add(new
            {
                v.Version, v.ContentHash, size = bundle?.Size, signerKeyId = bundle?.SignerKeyId,
                publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(v.PublishedAt),
            });
        }

        var installs = (await store.ListInstallsAsync(null, ct)).Where(i => i.ExtensionId == extensionId)
            .Select(i => new { tenant = i.TenantId, i.Version, i.ContentHash, i.State });
        return Results.Ok(new { id = extensionId, versions = provenance, installs });
    }

    internal sealed record TenantBody(string? Id, string? Name);

    private static async Task<IResult> CreateTenantAsync(TenantBody body, HttpContext context, RegistryStore store)
    {
        if (body.Id is null || !System.Text.RegularExpressions.Regex.IsMatch(body.Id, "^[a-z][a-z0-9-]{0,62}$"))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "id must match ^[a-z][a-z0-9-]{0,62}$");
        }

        if (await store.TenantExistsAsync(body.Id, context.RequestAborted))
        {
            throw new ExtensionsException(ProblemCodes.VersionConflict, 409, $"tenant '{body.Id}' already exists");
        }

        await store.CreateTenantAsync(body.Id, body.Name ?? body.Id, context.RequestAborted);
        await store.AuditAsync(body.Id, Actor(context), "tenant.create", body.Id, body.Name ?? body.Id, context.RequestAborted);
        return Results.Created($"/api/admin/tenants/{body.Id}", new { id = body.Id });
    }

    internal sealed record KeyBody(string? Name);

    private static async Task<IResult> CreateKeyAsync(string tenantId, KeyBody? body, HttpContext context, RegistryStore store, ApiKeys keys)
    {
        if (!await store.TenantExistsAsync(tenantId, context.RequestAborted))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"tenant '{tenantId}' does not exist");
        }

        var (id, key) = await keys.CreateAsync(tenantId, CallerIdentity.TenantKind, body?.Name ?? "api key", context.RequestAborted);
        return Results.Created($"/api/admin/keys/{id}", new { id, tenant = tenantId, key, note = "store this key now: it is not shown again" });
    }

    /// <summary>The tenant's keys without their secrets (stored hashed; a key is shown only when created).</summary>
    private static async Task<IResult> ListKeysAsync(string tenantId, HttpContext context, RegistryStore store, ITenantKeys keys)
    {
        if (!await store.TenantExistsAsync(tenantId, context.RequestAborted))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"tenant '{tenantId}' does not exist");
        }

        return Results.Ok(await keys.ListAsync(tenantId, context.RequestAborted));
    }

    private static async Task<IResult> RevokeKeyAsync(string keyId, HttpContext context, RegistryStore store)
    {
        if (!await store.RevokeApiKeyAsync(keyId, context.RequestAborted))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"key '{keyId}' does not exist or is already revoked");
        }

        await store.AuditAsync(Caller(context).TenantId, Actor(context), "apikey.revoke", keyId, "", context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> ListAuditAsync(string? tenant, string? extension, string? subject, int? limit, long? before, RegistryStore store, CancellationToken ct)
    {
        var rows = await store.ListAuditAsync(tenant, extension, subject, Math.Clamp(limit ?? 100, 1, 1000), ct, before);
        return Results.Ok(rows.Select(r => new
        {
            r.Id,
            at = DateTimeOffset.FromUnixTimeMilliseconds(r.At),
            tenant = r.TenantId,
            who = r.Actor,
            r.Action,
            r.Subject,
            extension = r.ExtensionId,
            r.Detail,
            before = r.Before is null ? (JsonElement?)null : JsonDocument.Parse(r.Before).RootElement,
            after = r.After is null ? (JsonElement?)null : JsonDocument.Parse(r.After).RootElement,
        }));
    }

    internal static CallerIdentity Caller(HttpContext context) =>
        CallerIdentity.From(context.User) ?? throw new ExtensionsException(ProblemCodes.Unauthenticated, 401, "not authenticated");

    internal static string Actor(HttpContext context) => Caller(context).KeyId;
}
