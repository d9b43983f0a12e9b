using System.Text;
using System.Text.Json;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Installs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Console;

/// <summary>
/// Installing and managing the signed-in tenant's installs: the consent screen (<c>/console/install/{id}</c>), the install page
/// (<c>/console/installs/{id}</c>: state, settings, secrets, upgrade, rollback, uninstall), the review page for an upgrade or a
/// rollback, and the uninstall confirmation. Every change is an admin's same-origin POST with the session's CSRF token, made
/// through <see cref="IRegistryAdmin"/> / <see cref="IInstallSecrets"/> (the admin API's own rules), then a redirect with a flash.
/// The tenant is always the session's: no route takes one, so a session can reach only its own tenant's installs.
/// </summary>
internal static class InstallPages
{
    public static void Map(RouteGroupBuilder console)
    {
        console.MapGet("/install/{extensionId}", ConsentAsync);
        console.MapPost("/install/{extensionId}", InstallAsync).DisableAntiforgery();
        console.MapGet("/installs/{extensionId}", ShowAsync);
        console.MapPost("/installs/{extensionId}/state", SetStateAsync).DisableAntiforgery();
        console.MapPost("/installs/{extensionId}/config", SetConfigAsync).DisableAntiforgery();
        console.MapPost("/installs/{extensionId}/secrets", SetSecretAsync).DisableAntiforgery();
        console.MapGet("/installs/{extensionId}/change", ReviewChangeAsync);
        console.MapPost("/installs/{extensionId}/change", ChangeAsync).DisableAntiforgery();
        console.MapGet("/installs/{extensionId}/uninstall", ConfirmUninstallAsync);
        console.MapPost("/installs/{extensionId}/uninstall", UninstallAsync).DisableAntiforgery();
    }

    public static string InstallHref(string extensionId) => $"/console/installs/{Uri.EscapeDataString(extensionId)}";

    public static string ConsentHref(string extensionId, string version) =>
        $"/console/install/{Uri.EscapeDataString(extensionId)}?version={Uri.EscapeDataString(version)}";

    /// <summary>The link from the extensions list to an install's page.</summary>
    public static string ManageLink(string extensionId) =>
        $"<br><a class=\"manage\" href=\"{Html.E(InstallHref(extensionId))}\" aria-label=\"Manage {Html.E(extensionId)}\">Manage</a>";

    public static string ManageLink(string extensionId, string text) => $"<a href=\"{Html.E(InstallHref(extensionId))}\">{Html.E(text)}</a>";

    private static string Actor(ConsoleViewer viewer) => $"console:{viewer.KeyId}";

    /// <summary>Who may see the page (null: the caller's answer is <paramref name="refusal"/>); changes also need an admin key and a valid form.</summary>
    private static async Task<(ConsoleViewer? Viewer, IResult? Refusal)> GateAsync(HttpContext context, AdminServices services, bool post, bool adminOnly, string title)
    {
        if (ConsolePages.Viewer(context, services.Sessions) is not { } viewer)
        {
            return (null, Results.Redirect("/console/sign-in"));
        }

        if (post && !await ConsolePages.IsValidFormAsync(context, services.Sessions))
        {
            return (null, ConsolePages.Refused(context));
        }

        if ((post || adminOnly) && !viewer.IsAdmin)
        {
            return (null, await AdminUi.AdminOnlyAsync(context, services, viewer, title));
        }

        return (viewer, null);
    }

    // ---- Install with consent -------------------------------------------------------------------------------------------

    private static async Task<IResult> ConsentAsync(string extensionId, string? version, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: false, adminOnly: true, "Install");
        if (viewer is null)
        {
            return refusal!;
        }

        var detail = await FindVersionAsync(services, extensionId, version, context.RequestAborted);
        if (detail is null)
        {
            return await AdminUi.PageAsync(context, services, viewer, StatusCodes.Status404NotFound, "Not found",
                $"<h1>Not found</h1><p>{Html.E(extensionId)}{(version is null ? " has no published version" : $" {Html.E(version)} is not published")}.</p>");
        }

        return await RenderConsentAsync(context, services, viewer, detail, StatusCodes.Status200OK, null, null, null);
    }

    private static async Task<PublishedVersionDetail?> FindVersionAsync(AdminServices services, string extensionId, string? version, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(version))
        {
            // The most recently published version: the registry lists them oldest first.
            var published = await services.Registry.ListVersionsAsync(extensionId, ct);
            version = published.Count > 0 ? published[^1].Version : null;
        }

        return version is null ? null : await services.Registry.FindVersionAsync(extensionId, version, ct);
    }

    private static async Task<IResult> RenderConsentAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, PublishedVersionDetail detail,
        int status, JsonElement? posted, ExtensionsException? problem, IReadOnlyDictionary<string, string>? inputErrors)
    {
        var manifest = detail.Manifest;
        var id = manifest.ExtensionId;
        var title = manifest.DisplayName ?? id;
        var existing = (await services.Catalog.ListAsync(viewer.Tenant, context.RequestAborted)).FirstOrDefault(i => i.ExtensionId == id);
        var main = new StringBuilder("<h1>Install ").Append(Html.E(title)).Append("</h1>")
            .Append("<p class=\"muted\"><code>").Append(Html.E(id)).Append("</code> ").Append(Html.E(detail.Version.Version))
            .Append(" · signed by <code>").Append(Html.E(detail.SignerKeyId)).Append("</code> · ").Append(Html.Hash(detail.Version.ContentHash)).Append("</p>");
        if (manifest.Description is { } description)
        {
            main.Append("<p>").Append(Html.E(description)).Append("</p>");
        }

        if (existing is not null)
        {
            main.Append("<p class=\"notice\">Tenant ").Append(Html.E(viewer.Tenant)).Append(" already runs ").Append(Html.E(existing.Version))
                .Append(". Installing replaces it; to see what changes first, use ").Append(ManageLink(id, "its install page")).Append(".</p>");
        }

        if (problem is not null && problem.Code != ProblemCodes.InvalidConfig)
        {
            main.Append(AdminUi.Problem(problem));
        }

        main.Append("<section class=\"card admin-section consent\" aria-labelledby=\"consent-title\"><h2 id=\"consent-title\">What you grant to ")
            .Append(Html.E(title)).Append(" for tenant ").Append(Html.E(viewer.Tenant)).Append("</h2>")
            .Append(AdminUi.GrantList(manifest.Capabilities, manifest.EgressHosts, "consent"));
        if (manifest.Endpoints.Count > 0)
        {
            main.Append("<h3>What it serves</h3><ul class=\"grants\">");
            foreach (var endpoint in manifest.Endpoints)
            {
                main.Append("<li><code>").Append(Html.E($"{endpoint.Method} /api/ext/{id}{endpoint.Path}")).Append("</code></li>");
            }

            main.Append("</ul>");
        }

        if (manifest.UiEntry is not null)
        {
            main.Append("<p>It adds a page to this console, shown in a sandboxed frame from its own origin.</p>");
        }

        if (manifest.Secrets.Count > 0)
        {
            main.Append("<p>After installing, set its secrets on the install page: ").Append(string.Join(", ", manifest.Secrets.Select(s => $"<code>{Html.E(s)}</code>"))).Append(".</p>");
        }

        main.Append("</section>");
        main.Append("<form method=\"post\" action=\"/console/install/").Append(Html.E(Uri.EscapeDataString(id))).Append("\" class=\"stack admin-form\">")
            .Append(Html.CsrfField(viewer.Csrf))
            .Append("<input type=\"hidden\" name=\"version\" value=\"").Append(Html.E(detail.Version.Version)).Append("\">")
            .Append(AdminUi.ConsentFields(manifest.Capabilities, manifest.EgressHosts))
            .Append(ConfigForm.Render(manifest.ConfigSchema, posted, problem?.Code == ProblemCodes.InvalidConfig ? problem.Message : null, inputErrors))
            .Append("<div class=\"actions\"><button type=\"submit\" id=\"grant-and-install\">Grant and install</button>")
            .Append("<a href=\"").Append(PublishPage.Href).Append("\">Cancel</a></div></form>");
        return await AdminUi.PageAsync(context, services, viewer, status, $"Install {title}", main.ToString(), PublishPage.Href);
    }

    private static async Task<IResult> InstallAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: true, adminOnly: true, "Install");
        if (viewer is null)
        {
            return refusal!;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var detail = await FindVersionAsync(services, extensionId, form["version"].ToString(), context.RequestAborted);
        if (detail is null || string.IsNullOrWhiteSpace(form["version"].ToString()))
        {
            return await AdminUi.PageAsync(context, services, viewer, StatusCodes.Status404NotFound, "Not found",
                $"<h1>Not found</h1><p>{Html.E(extensionId)} {Html.E(form["version"].ToString())} is not published.</p>");
        }

        var posted = ConfigForm.Read(detail.Manifest.ConfigSchema, form);
        if (posted.InputErrors.Count > 0)
        {
            return await RenderConsentAsync(context, services, viewer, detail, StatusCodes.Status400BadRequest, posted.Config, null, posted.InputErrors);
        }

        try
        {
            var consent = new Consent([.. form["capability"].OfType<string>()], [.. form["egress"].OfType<string>()]);
            var result = await services.Registry.InstallAsync(viewer.Tenant, extensionId, detail.Version.Version, consent, posted.Config, Actor(viewer),
                context.RequestAborted);
            return AdminUi.RedirectWithFlash(context, InstallHref(extensionId), $"Installed {result.ExtensionId} {result.Version} for tenant {result.TenantId}; it is {result.State}.");
        }
        catch (ExtensionsException problem)
        {
            return await RenderConsentAsync(context, services, viewer, detail, problem.Status, posted.Config, problem, null);
        }
    }

    // ---- The install page -----------------------------------------------------------------------------------------------

    private sealed record Trouble(string Section, ExtensionsException? Problem, JsonElement? PostedConfig = null, IReadOnlyDictionary<string, string>? InputErrors = null);

    private static async Task<IResult> ShowAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: false, adminOnly: false, "Install");
        return viewer is null ? refusal! : await RenderInstallAsync(context, services, viewer, extensionId, StatusCodes.Status200OK, null);
    }

    private static async Task<IResult> RenderInstallAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, string extensionId, int status, Trouble? trouble)
    {
        var ct = context.RequestAborted;
        if (await services.Registry.FindInstallAsync(viewer.Tenant, extensionId, ct) is not { } install)
        {
            return await AdminUi.NotInstalledAsync(context, services, viewer, extensionId);
        }

        var admin = viewer.IsAdmin;
        var manifest = install.Manifest;
        var title = manifest.DisplayName ?? install.ExtensionId;
        var action = $"/console/installs/{Html.E(Uri.EscapeDataString(install.ExtensionId))}";
        var main = new StringBuilder("<h1>").Append(Html.E(title)).Append("</h1>")
            .Append("<p class=\"muted\"><code>").Append(Html.E(install.ExtensionId)).Append("</code> ").Append(Html.E(install.Version))
            .Append(" · ").Append(Html.Hash(install.ContentHash)).Append(" · tenant ").Append(Html.E(install.TenantId)).Append("</p>");
        if (trouble is { Section: "page", Problem: { } pageProblem })
        {
            main.Append(AdminUi.Problem(pageProblem));
        }

        // State
        main.Append("<section class=\"card admin-section\" aria-labelledby=\"state-title\"><h2 id=\"state-title\">State</h2><p>This install is <span id=\"install-state\" class=\"state state-")
            .Append(Html.E(install.State)).Append("\">").Append(Html.E(install.State)).Append("</span>")
            .Append(install.StateReason is null ? "" : $": {Html.E(install.StateReason)}").Append(".</p>");
        if (trouble is { Section: "state", Problem: { } stateProblem })
        {
            main.Append(AdminUi.Problem(stateProblem));
        }

        if (admin)
        {
            foreach (var (state, label) in new[] { ("enabled", "Enable"), ("disabled", "Disable") })
            {
                if (install.State != state)
                {
                    main.Append("<form method=\"post\" action=\"").Append(action).Append("/state\" class=\"inline\">").Append(Html.CsrfField(viewer.Csrf))
                        .Append("<input type=\"hidden\" name=\"state\" value=\"").Append(state).Append("\"><button type=\"submit\">").Append(label).Append("</button></form>");
                }
            }
        }

        main.Append("</section>");

        // What it was granted
        main.Append("<section class=\"card admin-section\" aria-labelledby=\"granted-title\"><h2 id=\"granted-title\">Granted</h2>")
            .Append(AdminUi.GrantList(install.Granted, install.EgressHosts, "granted")).Append("</section>");

        // Settings
        main.Append("<section class=\"card admin-section\" aria-labelledby=\"settings-title\"><h2 id=\"settings-title\">Settings</h2>");
        var configTrouble = trouble is { Section: "config" } t ? t : null;
        if (configTrouble?.Problem is { Code: not ProblemCodes.InvalidConfig } otherConfigProblem)
        {
            main.Append(AdminUi.Problem(otherConfigProblem));
        }

        if (manifest.ConfigSchema is null)
        {
            main.Append("<p>This extension has no settings.</p>");
        }
        else if (admin)
        {
            main.Append("<form method=\"post\" action=\"").Append(action).Append("/config\" class=\"stack admin-form\">").Append(Html.CsrfField(viewer.Csrf))
                .Append(ConfigForm.Render(manifest.ConfigSchema, configTrouble?.PostedConfig ?? install.Config,
                    configTrouble?.Problem is { Code: ProblemCodes.InvalidConfig } invalid ? invalid.Message : null, configTrouble?.InputErrors));
            main.Append("<div class=\"actions\"><button type=\"submit\">Save settings</button></div></form>");
        }
        else
        {
            main.Append("<pre><code>").Append(Html.E(JsonSerializer.Serialize(install.Config))).Append("</code></pre>");
        }

        main.Append("</section>");

        // Secrets
        main.Append(await SecretsSectionAsync(context, services, viewer, install, action, trouble is { Section: "secrets" } st ? st.Problem : null, admin));

        // Upgrade and rollback
        var versions = (await services.Registry.ListVersionsAsync(install.ExtensionId, ct)).Where(v => v.ContentHash != install.ContentHash).Reverse().ToList();
        main.Append("<section class=\"card admin-section\" aria-labelledby=\"upgrade-title\"><h2 id=\"upgrade-title\">Upgrade</h2>");
        if (versions.Count == 0)
        {
            main.Append("<p>No other version of ").Append(Html.E(install.ExtensionId)).Append(" is published.</p>");
        }
        else if (admin)
        {
            main.Append("<form method=\"get\" action=\"").Append(action).Append("/change\" class=\"stack admin-form\">")
                .Append("<label for=\"upgrade-version\">Published version</label><select id=\"upgrade-version\" name=\"version\">");
            foreach (var version in versions)
            {
                main.Append("<option value=\"").Append(Html.E(version.Version)).Append("\">").Append(Html.E(version.Version))
                    .Append(" (published ").Append(Html.E(version.PublishedAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))).Append(")</option>");
            }

            main.Append("</select><div class=\"actions\"><button type=\"submit\">Review the change</button></div></form>");
        }
        else
        {
            main.Append("<p>Published: ").Append(Html.E(string.Join(", ", versions.Select(v => v.Version)))).Append(".</p>");
        }

        main.Append("</section>");

        var earlier = install.History.Where(h => h.ContentHash != install.ContentHash).GroupBy(h => h.ContentHash).Select(g => g.Last()).Reverse().ToList();
        main.Append("<section class=\"card admin-section\" aria-labelledby=\"rollback-title\"><h2 id=\"rollback-title\">Rollback</h2>");
        if (earlier.Count == 0)
        {
            main.Append("<p>This install has run no other content.</p>");
        }
        else
        {
            main.Append("<p>Contents this install ran before:</p><ul class=\"history\">");
            foreach (var entry in earlier)
            {
                main.Append("<li data-hash=\"").Append(Html.E(entry.ContentHash)).Append("\">").Append(Html.E(entry.Version)).Append(' ').Append(Html.Hash(entry.ContentHash))
                    .Append(", until ").Append(AdminUi.When(entry.At)).Append(" at the latest");
                if (admin)
                {
                    main.Append(" · <a href=\"").Append(action).Append("/change?hash=").Append(Html.E(Uri.EscapeDataString(entry.ContentHash)))
                        .Append("\" aria-label=\"Review rolling back to ").Append(Html.E(entry.Version)).Append("\">Review rollback</a>");
                }

                main.Append("</li>");
            }

            main.Append("</ul>");
        }

        main.Append("</section>");

        if (admin)
        {
            main.Append("<section class=\"card admin-section danger-zone\" aria-labelledby=\"uninstall-title\"><h2 id=\"uninstall-title\">Uninstall</h2>")
                .Append("<p>Removes this install with its data, secrets and logs. You confirm on the next page.</p>")
                .Append("<p><a class=\"button danger\" href=\"").Append(action).Append("/uninstall\">Uninstall ").Append(Html.E(install.ExtensionId)).Append("…</a></p></section>");
        }

        return await AdminUi.PageAsync(context, services, viewer, status, title, main.ToString());
    }

    private static async Task<string> SecretsSectionAsync(
        HttpContext context, AdminServices services, ConsoleViewer viewer, InstallDetail install, string action, ExtensionsException? problem, bool admin)
    {
        var html = new StringBuilder("<section class=\"card admin-section\" aria-labelledby=\"secrets-title\"><h2 id=\"secrets-title\">Secrets</h2>");
        var secrets = await services.Secrets.ListAsync(install.TenantId, install.ExtensionId, context.RequestAborted) ?? [];
        if (problem is not null)
        {
            html.Append(AdminUi.Problem(problem, "secret-error"));
        }

        if (secrets.Count == 0)
        {
            return html.Append("<p>This version declares no secrets.</p></section>").ToString();
        }

        html.Append("<p class=\"muted\">Values are write-only: they are stored encrypted and never shown again, here or anywhere.</p><ul class=\"secrets\">");
        for (var i = 0; i < secrets.Count; i++)
        {
            var secret = secrets[i];
            html.Append("<li data-secret=\"").Append(Html.E(secret.Name)).Append("\"><p><code>").Append(Html.E(secret.Name)).Append("</code>: <span class=\"secret-state\">")
                .Append(secret.UpdatedAt is { } at ? $"set {AdminUi.When(at)}" : "not set").Append("</span>")
                .Append(secret.Declared ? "" : " (no longer declared by this version)").Append("</p>");
            if (admin && secret.Declared)
            {
                html.Append("<form method=\"post\" action=\"").Append(action).Append("/secrets\" class=\"secret-form\" autocomplete=\"off\">").Append(Html.CsrfField(viewer.Csrf))
                    .Append("<input type=\"hidden\" name=\"name\" value=\"").Append(Html.E(secret.Name)).Append("\">")
                    .Append("<label for=\"secret-").Append(i).Append("\">").Append(secret.UpdatedAt is null ? "Value for " : "New value for ")
                    .Append(Html.E(secret.Name)).Append("</label>")
                    .Append("<input id=\"secret-").Append(i).Append("\" name=\"value\" type=\"password\" autocomplete=\"new-password\" spellcheck=\"false\" required>")
                    .Append("<button type=\"submit\">").Append(secret.UpdatedAt is null ? "Set" : "Rotate").Append("</button></form>");
            }

            html.Append("</li>");
        }

        return html.Append("</ul></section>").ToString();
    }

    private static async Task<IResult> SetStateAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: true, adminOnly: true, "Install");
        if (viewer is null)
        {
            return refusal!;
        }

        var state = (await context.Request.ReadFormAsync(context.RequestAborted))["state"].ToString();
        try
        {
            var result = await services.Registry.SetStateAsync(viewer.Tenant, extensionId, state, Actor(viewer), context.RequestAborted);
            return AdminUi.RedirectWithFlash(context, InstallHref(extensionId), $"{result.ExtensionId} is now {result.State}.");
        }
        catch (ExtensionsException problem)
        {
            return await RenderInstallAsync(context, services, viewer, extensionId, problem.Status, new Trouble("state", problem));
        }
    }

    private static async Task<IResult> SetConfigAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: true, adminOnly: true, "Install");
        if (viewer is null)
        {
            return refusal!;
        }

        if (await services.Registry.FindInstallAsync(viewer.Tenant, extensionId, context.RequestAborted) is not { } install)
        {
            return await AdminUi.NotInstalledAsync(context, services, viewer, extensionId);
        }

        var posted = ConfigForm.Read(install.Manifest.ConfigSchema, await context.Request.ReadFormAsync(context.RequestAborted));
        if (posted.InputErrors.Count > 0 || posted.Config is not { } config)
        {
            return await RenderInstallAsync(context, services, viewer, extensionId, StatusCodes.Status400BadRequest,
                new Trouble("config", null, posted.Config, posted.InputErrors.Count > 0 ? posted.InputErrors : new Dictionary<string, string> { [""] = "this extension has no settings" }));
        }

        try
        {
            await services.Registry.SetConfigAsync(viewer.Tenant, extensionId, config, Actor(viewer), context.RequestAborted);
            return AdminUi.RedirectWithFlash(context, InstallHref(extensionId), $"Settings of {extensionId} saved.");
        }
        catch (ExtensionsException problem)
        {
            return await RenderInstallAsync(context, services, viewer, extensionId, problem.Status, new Trouble("config", problem, config));
        }
    }

    private static async Task<IResult> SetSecretAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: true, adminOnly: true, "Install");
        if (viewer is null)
        {
            return refusal!;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var name = form["name"].ToString();
        try
        {
            await services.Secrets.SetAsync(viewer.Tenant, extensionId, name, Encoding.UTF8.GetBytes(form["value"].ToString()), Actor(viewer), context.RequestAborted);
            return AdminUi.RedirectWithFlash(context, InstallHref(extensionId), $"Secret {name} of {extensionId} set.");
        }
        catch (ExtensionsException problem)
        {
            // The page is rendered afresh: the value posted is never written back into it.
            return await RenderInstallAsync(context, services, viewer, extensionId, problem.Status, new Trouble("secrets", problem));
        }
    }

    // ---- Upgrade / rollback review --------------------------------------------------------------------------------------

    private static async Task<IResult> ReviewChangeAsync(string extensionId, string? version, string? hash, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: false, adminOnly: true, "Review the change");
        if (viewer is null)
        {
            return refusal!;
        }

        return await RenderChangeAsync(context, services, viewer, extensionId, version, hash, StatusCodes.Status200OK, null);
    }

    private static async Task<IResult> RenderChangeAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, string extensionId,
        string? version, string? hash, int status, ExtensionsException? problem)
    {
        var ct = context.RequestAborted;
        ChangePlan plan;
        try
        {
            plan = !string.IsNullOrWhiteSpace(hash)
                ? await services.Registry.PlanRollbackAsync(viewer.Tenant, extensionId, hash, ct)
                : await services.Registry.PlanUpgradeAsync(viewer.Tenant, extensionId, version ?? "", ct);
        }
        catch (ExtensionsException planProblem)
        {
            return await RenderInstallAsync(context, services, viewer, extensionId, planProblem.Status, new Trouble("page", planProblem));
        }

        var rollback = !string.IsNullOrWhiteSpace(hash);
        var verb = rollback ? "Roll back" : "Upgrade";
        var main = new StringBuilder("<h1>").Append(verb).Append(' ').Append(Html.E(extensionId)).Append(" to ").Append(Html.E(plan.ToVersion)).Append("</h1>")
            .Append("<p>From ").Append(Html.E(plan.FromVersion)).Append(' ').Append(Html.Hash(plan.FromContentHash)).Append(" to ")
            .Append(Html.E(plan.ToVersion)).Append(' ').Append(Html.Hash(plan.ToContentHash)).Append(", for tenant ").Append(Html.E(viewer.Tenant)).Append(".</p>");
        if (problem is not null)
        {
            main.Append(AdminUi.Problem(problem));
        }

        main.Append("<section class=\"card admin-section\" aria-labelledby=\"diff-title\"><h2 id=\"diff-title\">What changes</h2>")
            .Append(DiffList("Capabilities added", plan.Capabilities.Added, AdminUi.Capability, "cap-added"))
            .Append(DiffList("Capabilities removed", plan.Capabilities.Removed, AdminUi.Capability, "cap-removed"))
            .Append(DiffList("Network access added", plan.EgressHosts.Added, AdminUi.EgressHost, "egress-added"))
            .Append(DiffList("Network access removed", plan.EgressHosts.Removed, AdminUi.EgressHost, "egress-removed"));
        if (plan.Capabilities.Added.Count + plan.Capabilities.Removed.Count + plan.EgressHosts.Added.Count + plan.EgressHosts.Removed.Count == 0)
        {
            main.Append("<p id=\"no-grant-change\">The grants stay the same.</p>");
        }

        main.Append("</section>");

        main.Append("<form method=\"post\" action=\"/console/installs/").Append(Html.E(Uri.EscapeDataString(extensionId))).Append("/change\" class=\"stack admin-form\">")
            .Append(Html.CsrfField(viewer.Csrf))
            .Append(rollback
                ? $"<input type=\"hidden\" name=\"hash\" value=\"{Html.E(plan.ToContentHash)}\">"
                : $"<input type=\"hidden\" name=\"version\" value=\"{Html.E(plan.ToVersion)}\">")
            .Append(AdminUi.ConsentFields(plan.RequiredCapabilities, plan.RequiredEgressHosts));
        if (plan.ConsentRequired)
        {
            main.Append("<div class=\"field check consent-check\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\" required>")
                .Append("<label for=\"consent\">I grant ").Append(Html.E(extensionId)).Append(' ').Append(Html.E(plan.ToVersion))
                .Append(" the added capabilities and network access listed above.</label></div>")
                .Append("<p class=\"muted\">Without this consent nothing changes: the install keeps running ").Append(Html.E(plan.FromVersion)).Append(".</p>");
        }

        main.Append("<div class=\"actions\"><button type=\"submit\" id=\"apply-change\">").Append(verb).Append(" to ").Append(Html.E(plan.ToVersion)).Append("</button>")
            .Append(ManageLink(extensionId, "Cancel")).Append("</div></form>");
        return await AdminUi.PageAsync(context, services, viewer, status, $"{verb} {extensionId}", main.ToString());
    }

    private static string DiffList(string heading, IReadOnlyList<string> items, Func<string, string> words, string id)
    {
        if (items.Count == 0)
        {
            return "";
        }

        var html = new StringBuilder("<h3 id=\"").Append(id).Append("\">").Append(Html.E(heading)).Append("</h3><ul class=\"grants\" aria-labelledby=\"").Append(id).Append("\">");
        foreach (var item in items)
        {
            html.Append("<li>").Append(Html.E(words(item))).Append(" <code>").Append(Html.E(item)).Append("</code></li>");
        }

        return html.Append("</ul>").ToString();
    }

    private static async Task<IResult> ChangeAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: true, adminOnly: true, "Review the change");
        if (viewer is null)
        {
            return refusal!;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var version = form["version"].ToString();
        var hash = form["hash"].ToString();
        // The consent is exactly what the review page listed, and only when the admin ticked it; the registry decides whether it is needed and enough.
        var consent = form["consent"].ToString() == "yes" ? new Consent([.. form["capability"].OfType<string>()], [.. form["egress"].OfType<string>()]) : null;
        try
        {
            var result = hash.Length > 0
                ? await services.Registry.RollbackAsync(viewer.Tenant, extensionId, hash, consent, Actor(viewer), context.RequestAborted)
                : await services.Registry.UpgradeAsync(viewer.Tenant, extensionId, version, consent, Actor(viewer), context.RequestAborted);
            return AdminUi.RedirectWithFlash(context, InstallHref(extensionId),
                $"{extensionId} now runs {result.Version} ({result.ContentHash}).");
        }
        catch (ExtensionsException problem)
        {
            return await RenderChangeAsync(context, services, viewer, extensionId, version, hash, problem.Status, problem);
        }
    }

    // ---- Uninstall ------------------------------------------------------------------------------------------------------

    private static async Task<IResult> ConfirmUninstallAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: false, adminOnly: true, "Uninstall");
        if (viewer is null)
        {
            return refusal!;
        }

        if (await services.Registry.FindInstallAsync(viewer.Tenant, extensionId, context.RequestAborted) is not { } install)
        {
            return await AdminUi.NotInstalledAsync(context, services, viewer, extensionId);
        }

        var secrets = await services.Secrets.ListAsync(viewer.Tenant, extensionId, context.RequestAborted) ?? [];
        var setSecrets = secrets.Where(s => s.UpdatedAt is not null).Select(s => $"<code>{Html.E(s.Name)}</code>").ToList();
        var main = new StringBuilder("<h1>Uninstall ").Append(Html.E(install.Manifest.DisplayName ?? extensionId)).Append("?</h1>")
            .Append("<section class=\"card admin-section danger-zone\" aria-labelledby=\"deletes-title\"><h2 id=\"deletes-title\">This deletes, for tenant ")
            .Append(Html.E(viewer.Tenant)).Append(", and cannot be undone:</h2><ul id=\"deletes\">")
            .Append("<li>the install of <code>").Append(Html.E(extensionId)).Append("</code> ").Append(Html.E(install.Version)).Append(", its settings and its version history (so no rollback);</li>")
            .Append("<li>all its key-value data (KV);</li>")
            .Append("<li>its secrets").Append(setSecrets.Count > 0 ? $": {string.Join(", ", setSecrets)}" : " (none are set)").Append(";</li>")
            .Append("<li>its guest log lines.</li></ul>")
            .Append("<p>The audit trail keeps the record of this install and of its removal. The published versions stay, so it can be installed again.</p></section>")
            .Append("<form method=\"post\" action=\"/console/installs/").Append(Html.E(Uri.EscapeDataString(extensionId))).Append("/uninstall\" class=\"actions\">")
            .Append(Html.CsrfField(viewer.Csrf))
            .Append("<button type=\"submit\" class=\"danger\" id=\"confirm-uninstall\">Delete ").Append(Html.E(extensionId)).Append(" and its data</button>")
            .Append(ManageLink(extensionId, "Cancel")).Append("</form>");
        return await AdminUi.PageAsync(context, services, viewer, StatusCodes.Status200OK, $"Uninstall {extensionId}", main.ToString());
    }

    private static async Task<IResult> UninstallAsync(string extensionId, HttpContext context, [AsParameters] AdminServices services)
    {
        var (viewer, refusal) = await GateAsync(context, services, post: true, adminOnly: true, "Uninstall");
        if (viewer is null)
        {
            return refusal!;
        }

        try
        {
            await services.Registry.UninstallAsync(viewer.Tenant, extensionId, Actor(viewer), context.RequestAborted);
            return AdminUi.RedirectWithFlash(context, "/console/extensions", $"{extensionId} was uninstalled for tenant {viewer.Tenant}; its data, secrets and logs are deleted.");
        }
        catch (ExtensionsException problem)
        {
            return await RenderInstallAsync(context, services, viewer, extensionId, problem.Status, new Trouble("page", problem));
        }
    }
}
