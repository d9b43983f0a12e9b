using System.Text.Json;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Installs;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Registry.Endpoints;

/// <summary>One install's life after it exists: show, config, upgrade (with a diff first), rollback.</summary>
internal static class InstallEndpoints
{
    internal sealed record ConsentBody(List<string>? Capabilities, List<string>? EgressHosts);

    internal sealed record UpgradeBody(string? Version, ConsentBody? Accept, JsonElement? Config);

    internal sealed record RollbackBody(string? ContentHash, ConsentBody? Accept, JsonElement? Config);

    public static async Task<IResult> ShowAsync(string tenant, string extensionId, InstallService installs, CancellationToken ct)
    {
        var (install, history) = await installs.ShowAsync(tenant, extensionId, ct);
        return Results.Ok(new
        {
            install.Id, tenant = install.TenantId, install.ExtensionId, install.Version, install.ContentHash, install.State, install.StateReason,
            granted = install.Capabilities, egressHosts = install.EgressHosts,
            config = JsonDocument.Parse(install.Config).RootElement,
            history = history.Select(h => new
            {
                h.Version, h.ContentHash, h.Action, who = h.Actor, at = DateTimeOffset.FromUnixTimeMilliseconds(h.At),
                granted = Split(h.GrantedCapabilities), egressHosts = Split(h.GrantedEgress),
            }),
        });
    }

    public static async Task<IResult> SetConfigAsync(string tenant, string extensionId, HttpContext context, InstallService installs)
    {
        var config = await ReadJsonAsync(context);
        return Results.Ok(await installs.SetConfigAsync(tenant, extensionId, config, AdminEndpoints.Actor(context), context.RequestAborted));
    }

    public static async Task<IResult> PreviewUpgradeAsync(string tenant, string extensionId, string? version, InstallService installs, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(version))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "query parameter 'version' is required");
        }

        var plan = await installs.PlanUpgradeAsync(tenant, extensionId, version, ct);
        return Results.Ok(plan);
    }

    public static async Task<IResult> UpgradeAsync(string tenant, string extensionId, UpgradeBody body, HttpContext context, InstallService installs)
    {
        if (string.IsNullOrWhiteSpace(body.Version))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "version is required");
        }

        return Results.Ok(await installs.UpgradeAsync(tenant, extensionId, body.Version, ToConsent(body.Accept), body.Config,
            AdminEndpoints.Actor(context), context.RequestAborted));
    }

    public static async Task<IResult> RollbackAsync(string tenant, string extensionId, RollbackBody body, HttpContext context, InstallService installs)
    {
        if (string.IsNullOrWhiteSpace(body.ContentHash))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "contentHash is required");
        }

        return Results.Ok(await installs.RollbackAsync(tenant, extensionId, body.ContentHash, ToConsent(body.Accept), body.Config,
            AdminEndpoints.Actor(context), context.RequestAborted));
    }

    private static Consent? ToConsent(ConsentBody? accept) => accept is null ? null : new Consent(accept.Capabilities, accept.EgressHosts);

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private static async Task<JsonElement> ReadJsonAsync(HttpContext context)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ExtensionsException(ProblemCodes.InvalidConfig, 400, $"the body must be a JSON object of settings: {ex.Message}");
        }
    }
}
