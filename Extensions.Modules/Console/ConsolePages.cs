using System.Globalization;
using System.Text;
using Extensions.Modules.Assets;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Console;

/// <summary>
/// The console's pages under <c>/console</c>: sign-in with an API key, the tenant's extensions with provenance, and one page per
/// extension UI that frames it from its own asset origin. State-changing forms carry the session's CSRF token and must come from
/// this origin.
/// </summary>
internal static class ConsolePages
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var console = endpoints.MapGroup(ConsoleSession.ConsolePath).AllowAnonymous().WithTags("Console");
        console.MapGet("/", (HttpContext c) => Results.Redirect("/console/extensions"));
        console.MapGet("/sign-in", (HttpContext context, IConsoleSessions sessions) => SignInPage(context, sessions));
        console.MapPost("/sign-in", SignInAsync).DisableAntiforgery();
        console.MapPost("/sign-out", SignOutAsync).DisableAntiforgery();
        console.MapGet("/extensions", ExtensionsAsync);
        console.MapGet("/ext/{extensionId}", ExtensionPageAsync);
        console.MapGet("/keys", KeysPageAsync);
        console.MapPost("/keys", CreateKeyAsync).DisableAntiforgery();
        console.MapPost("/keys/{keyId}/revoke", RevokeKeyAsync).DisableAntiforgery();
        console.MapGet("/static/{name}", StaticFiles.Serve);
        ActivityPages.Map(console);
        PublishPage.Map(console);
        InstallPages.Map(console);
    }

    private static IResult SignInPage(HttpContext context, IConsoleSessions sessions, string? error = null, int status = 401, (string Tenant, string User)? user = null)
    {
        if (sessions.Caller(context) is not null && error is null)
        {
            return Results.Redirect("/console/extensions");
        }

        var main = new StringBuilder("<section class=\"card narrow\"><h1>Sign in</h1>");
        if (error is not null)
        {
            main.Append("<p class=\"alert\" role=\"alert\" id=\"sign-in-error\">").Append(Html.E(error)).Append("</p>");
        }

        // A tenant user signs in with a user name and password; the operator (and scripts' keys) with an API key below.
        var invalid = error is not null && user is not null ? " aria-invalid=\"true\" aria-describedby=\"sign-in-error\"" : "";
        main.Append("<form method=\"post\" action=\"/console/sign-in\" class=\"stack\" aria-label=\"Sign in as a user\">")
            .Append("<label for=\"tenant\">Tenant</label>")
            .Append("<input id=\"tenant\" name=\"tenant\" required maxlength=\"63\" autocomplete=\"organization\" spellcheck=\"false\" value=\"")
            .Append(Html.E(user?.Tenant ?? "default")).Append("\">")
            .Append("<label for=\"user\">User name</label>")
            .Append("<input id=\"user\" name=\"user\" required maxlength=\"64\" autocomplete=\"username\" spellcheck=\"false\" autocapitalize=\"none\"")
            .Append(user is null ? " autofocus" : "").Append(" value=\"").Append(Html.E(user?.User)).Append('"').Append(invalid).Append('>')
            .Append("<label for=\"password\">Password</label>")
            .Append("<input id=\"password\" name=\"password\" type=\"password\" required maxlength=\"256\" autocomplete=\"current-password\"")
            .Append(user is null ? "" : " autofocus").Append(invalid).Append('>')
            .Append("<button type=\"submit\">Sign in</button></form>");
        main.Append("<h2 class=\"sign-in-alt\">Or with an API key</h2>");
        main.Append("<form method=\"post\" action=\"/console/sign-in\" class=\"stack\">")
            .Append("<label for=\"key\">API key</label>")
            .Append("<input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required spellcheck=\"false\"")
            .Append(" aria-describedby=\"key-help\"")
            .Append(error is null || user is not null ? "" : " aria-invalid=\"true\"").Append('>')
            .Append("<p id=\"key-help\" class=\"muted\">The admin key is in <code>admin.key</code> in the data directory.</p>")
            .Append("<button type=\"submit\">Sign in with key</button></form></section>");
        return Page(context, error is null ? 200 : status, Html.Page("Sign in", main.ToString(), null, []), frameSrc: null);
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IConsoleSessions sessions)
    {
        if (!IsSameOrigin(context) || !context.Request.HasFormContentType)
        {
            return Page(context, 403, Html.Page("Refused", "<p class=\"alert\" role=\"alert\">Sign-in must come from the console's own page.</p>", null, []), null);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form.ContainsKey("user"))
        {
            return await SignInUserAsync(context, sessions, form["tenant"].ToString().Trim(), form["user"].ToString().Trim(), form["password"].ToString());
        }

        var key = form["key"].ToString();
        var caller = key.Length is > 0 and <= 256 ? await sessions.SignInAsync(context, key) : null;
        return caller is null
            ? SignInPage(context, sessions, "That key is unknown or revoked.")
            : Results.Redirect("/console/extensions");
    }

    private static async Task<IResult> SignInUserAsync(HttpContext context, IConsoleSessions sessions, string tenant, string user, string password)
    {
        var shown = (tenant.Length > 63 ? tenant[..63] : tenant, user.Length > 64 ? user[..64] : user);
        if (tenant.Length is 0 or > 63 || user.Length is 0 or > 64 || password.Length is 0 or > 256)
        {
            return SignInPage(context, sessions, "Enter the tenant, your user name and your password.", 400, shown);
        }

        var result = await sessions.SignInUserAsync(context, tenant, user, password);
        switch (result.Outcome)
        {
            case UserSignInOutcome.SignedIn:
                return Results.Redirect("/console/extensions");
            case UserSignInOutcome.Throttled:
                var minutes = Math.Max(1, (int)Math.Ceiling((result.RetryAfter ?? TimeSpan.FromMinutes(1)).TotalMinutes));
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling((result.RetryAfter ?? TimeSpan.FromMinutes(1)).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return SignInPage(context, sessions,
                    $"Too many failed sign-ins for this user name from your address. Try again in {minutes} minute{(minutes == 1 ? "" : "s")}.", 429, shown);
            case UserSignInOutcome.Disabled:
                return SignInPage(context, sessions, "This user is disabled. Ask your tenant's admin.", 403, shown);
            default:
                return SignInPage(context, sessions, "That user name or password is wrong.", 401, shown);
        }
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, IConsoleSessions sessions)
    {
        if (!await IsValidFormAsync(context, sessions))
        {
            return Page(context, 403, Html.Page("Refused", "<p class=\"alert\" role=\"alert\">The form's security token is missing or wrong; reload the page and try again.</p>", null, []), null);
        }

        await sessions.SignOutAsync(context);
        return Results.Redirect("/console/sign-in");
    }

    private static async Task<IResult> ExtensionsAsync(HttpContext context, IConsoleSessions sessions, IInstallCatalog catalog, IInstallResolver resolver)
    {
        if (Viewer(context, sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        var installs = await catalog.ListAsync(viewer.Tenant, context.RequestAborted);
        var nav = await NavAsync(viewer, installs, resolver, context.RequestAborted);
        var main = new StringBuilder("<h1>Extensions</h1>");
        main.Append(AdminUi.TakeFlash(context));
        if (installs.Count == 0)
        {
            main.Append("<p>No extensions are installed for this tenant.</p>");
        }
        else
        {
            main.Append("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Installed extensions\"><table><thead><tr>")
                .Append("<th scope=\"col\">Extension</th><th scope=\"col\">Version</th><th scope=\"col\">State</th>")
                .Append("<th scope=\"col\">Signer</th><th scope=\"col\">Content hash</th></tr></thead><tbody>");
            foreach (var install in installs)
            {
                var page = nav.FirstOrDefault(n => n.Href == PageHref(install.ExtensionId));
                main.Append("<tr data-extension=\"").Append(Html.E(install.ExtensionId)).Append("\"><th scope=\"row\">")
                    .Append(page.Href is null ? Html.E(install.ExtensionId) : $"<a href=\"{Html.E(page.Href)}\">{Html.E(install.ExtensionId)}</a>")
                    .Append("</th><td>").Append(Html.E(install.Version))
                    .Append("</td><td><span class=\"state state-").Append(Html.E(install.State)).Append("\">").Append(Html.E(install.State)).Append("</span>")
                    .Append(install.StateReason is null ? "" : $"<br><small>{Html.E(install.StateReason)}</small>")
                    .Append(InstallPages.ManageLink(install.ExtensionId))
                    .Append("</td><td><code>").Append(Html.E(install.SignerKeyId)).Append("</code></td><td>").Append(Html.Hash(install.ContentHash))
                    .Append("</td></tr>");
            }

            main.Append("</tbody></table></div>");
        }

        return Page(context, 200, Html.Page("Extensions", main.ToString(), viewer, nav, "/console/extensions"), frameSrc: null);
    }

    private static async Task<IResult> ExtensionPageAsync(
        string extensionId, HttpContext context, IConsoleSessions sessions, IInstallCatalog catalog, IInstallResolver resolver, AssetOrigins origins)
    {
        if (Viewer(context, sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        var installs = await catalog.ListAsync(viewer.Tenant, context.RequestAborted);
        var nav = await NavAsync(viewer, installs, resolver, context.RequestAborted);
        var resolved = await resolver.ResolveAsync(viewer.Tenant, extensionId, context.RequestAborted);
        if (resolved.Install is not { Manifest.UiEntry: { } entry } install)
        {
            var why = resolved.Install is null ? "is not installed and enabled for this tenant" : "has no UI";
            return Page(context, 404, Html.Page("Not found", $"<h1>Not found</h1><p>{Html.E(extensionId)} {why}.</p>", viewer, nav), null);
        }

        var origin = origins.OriginFor(install.ExtensionId);
        var title = install.Manifest.DisplayName ?? install.ExtensionId;
        var locale = context.Request.Headers.AcceptLanguage.ToString().Split(',')[0].Split(';')[0].Trim();
        var main = new StringBuilder()
            .Append("<div class=\"ext-head\"><h1>").Append(Html.E(title)).Append("</h1><p class=\"muted\">")
            .Append(Html.E(install.ExtensionId)).Append(' ').Append(Html.E(install.Version)).Append(" · ").Append(Html.Hash(install.ContentHash))
            .Append("</p></div>")
            .Append("<div id=\"ext-frame\" class=\"ext-frame\"")
            .Append(Data("origin", origin)).Append(Data("extension", install.ExtensionId)).Append(Data("hash", install.ContentHash))
            .Append(Data("entry", entry)).Append(Data("title", title)).Append(Data("tenant", viewer.Tenant))
            .Append(Data("user-id", viewer.KeyId)).Append(Data("user-name", viewer.Name)).Append(Data("user-kind", viewer.Kind))
            .Append(Data("user-role", viewer.Role ?? (viewer.IsAdmin ? "admin" : "user")))
            .Append(Data("locale", locale.Length is > 0 and <= 35 ? locale : "en"))
            .Append("></div><p id=\"ext-status\" class=\"muted\" role=\"status\" aria-live=\"polite\">Loading…</p>");
        return Page(context, 200, Html.Page(title, main.ToString(), viewer, nav, PageHref(install.ExtensionId)), frameSrc: origin);
    }

    /// <summary>The tenant's API keys (admins only): listed without secrets, created (the key is shown once), revoked.</summary>
    private static async Task<IResult> KeysPageAsync(HttpContext context, IConsoleSessions sessions, IInstallCatalog catalog, IInstallResolver resolver,
        ITenantKeys keys)
    {
        if (Viewer(context, sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        return await KeysAsync(context, viewer, catalog, resolver, keys, created: null, status: 200);
    }

    private static async Task<IResult> KeysAsync(HttpContext context, ConsoleViewer viewer, IInstallCatalog catalog, IInstallResolver resolver,
        ITenantKeys keys, (string Name, string Key)? created, int status)
    {
        var nav = await NavigationAsync(viewer, catalog, resolver, context.RequestAborted);
        if (!viewer.IsAdmin)
        {
            return Page(context, 403, Html.Page("API keys", "<h1>API keys</h1><p>Only a tenant admin may manage keys.</p>", viewer, nav, KeysHref), null);
        }

        var main = new StringBuilder("<h1>API keys</h1>");
        if (created is { } fresh)
        {
            main.Append("<section class=\"card\" role=\"status\"><h2>Key “").Append(Html.E(fresh.Name)).Append("” created</h2>")
                .Append("<p>Copy it now: it is stored hashed and is not shown again.</p>")
                .Append("<p><output id=\"new-key\"><code>").Append(Html.E(fresh.Key)).Append("</code></output></p></section>");
        }

        main.Append("<form method=\"post\" action=\"/console/keys\" class=\"stack narrow\">").Append(Html.CsrfField(viewer.Csrf))
            .Append("<label for=\"key-name\">New key for tenant ").Append(Html.E(viewer.Tenant)).Append("</label>")
            .Append("<input id=\"key-name\" name=\"name\" required maxlength=\"100\" autocomplete=\"off\">")
            .Append("<button type=\"submit\">Create key</button></form>");
        main.Append("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"API keys\"><table><thead><tr>")
            .Append("<th scope=\"col\">Name</th><th scope=\"col\">Id</th><th scope=\"col\">Kind</th><th scope=\"col\">Created</th>")
            .Append("<th scope=\"col\">State</th></tr></thead><tbody>");
        foreach (var key in await keys.ListAsync(viewer.Tenant, context.RequestAborted))
        {
            main.Append("<tr data-key=\"").Append(Html.E(key.Id)).Append("\"><th scope=\"row\">").Append(Html.E(key.Name))
                .Append("</th><td><code>").Append(Html.E(key.Id)).Append("</code></td><td>").Append(Html.E(key.Kind))
                .Append("</td><td>").Append(Html.E(key.CreatedAt.ToString("u", CultureInfo.InvariantCulture))).Append("</td><td>");
            if (key.RevokedAt is { } revoked)
            {
                main.Append("revoked ").Append(Html.E(revoked.ToString("u", CultureInfo.InvariantCulture)));
            }
            else if (key.Kind == CallerIdentity.TenantKind)
            {
                // Admin keys are the operator's: they are revoked with the admin API, never from a page signed in with one.
                main.Append("<form method=\"post\" action=\"/console/keys/").Append(Html.E(key.Id)).Append("/revoke\">").Append(Html.CsrfField(viewer.Csrf))
                    .Append("<button type=\"submit\" aria-label=\"Revoke ").Append(Html.E(key.Name)).Append("\">Revoke</button></form>");
            }
            else
            {
                main.Append("active");
            }

            main.Append("</td></tr>");
        }

        main.Append("</tbody></table></div>");
        return Page(context, status, Html.Page("API keys", main.ToString(), viewer, nav, KeysHref), frameSrc: null);
    }

    private static async Task<IResult> CreateKeyAsync(HttpContext context, IConsoleSessions sessions, IInstallCatalog catalog, IInstallResolver resolver, ITenantKeys keys)
    {
        if (Viewer(context, sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        if (!await IsValidFormAsync(context, sessions))
        {
            return Refused(context);
        }

        if (!viewer.IsAdmin)
        {
            return await KeysAsync(context, viewer, catalog, resolver, keys, null, 403);
        }

        var name = (await context.Request.ReadFormAsync(context.RequestAborted))["name"].ToString().Trim();
        if (name.Length is 0 or > 100)
        {
            return await KeysAsync(context, viewer, catalog, resolver, keys, null, 400);
        }

        var (_, key) = await keys.CreateAsync(viewer.Tenant, name, $"console:{viewer.KeyId}", context.RequestAborted);
        return await KeysAsync(context, viewer, catalog, resolver, keys, (name, key), 200);
    }

    private static async Task<IResult> RevokeKeyAsync(string keyId, HttpContext context, IConsoleSessions sessions, ITenantKeys keys)
    {
        if (Viewer(context, sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        if (!await IsValidFormAsync(context, sessions) || !viewer.IsAdmin)
        {
            return Refused(context);
        }

        var key = (await keys.ListAsync(viewer.Tenant, context.RequestAborted)).FirstOrDefault(k => k.Id == keyId);
        if (key is not { Kind: CallerIdentity.TenantKind, RevokedAt: null })
        {
            return Refused(context);
        }

        await keys.RevokeAsync(viewer.Tenant, keyId, $"console:{viewer.KeyId}", context.RequestAborted);
        return Results.Redirect(KeysHref);
    }

    internal static IResult Refused(HttpContext context) =>
        Page(context, 403, Html.Page("Refused", "<p class=\"alert\" role=\"alert\">The form's security token is missing or wrong, or this key may not do that; reload the page and try again.</p>", null, []), null);

    private const string KeysHref = "/console/keys";

    private static string Data(string name, string value) => $" data-{name}=\"{Html.E(value)}\"";

    private static string PageHref(string extensionId) => $"/console/ext/{extensionId}";

    /// <summary>The console's navigation: the extensions list, then one entry per enabled install with a <c>nav</c> UI hook.</summary>
    internal static async Task<IReadOnlyList<(string Href, string Label)>> NavAsync(
        ConsoleViewer viewer, IReadOnlyList<InstallSummary> installs, IInstallResolver resolver, CancellationToken ct)
    {
        var nav = new List<(string, string)> { ("/console/extensions", "Extensions") };
        if (viewer.IsAdmin)
        {
            nav.Add((KeysHref, "API keys"));
            nav.AddRange(ActivityPages.Nav);
            if (viewer.Kind == CallerIdentity.AdminKind)
            {
                nav.Add((PublishPage.Href, "Publish"));
            }
        }

        foreach (var install in installs.Where(i => i.State == "enabled"))
        {
            var resolved = await resolver.ResolveAsync(viewer.Tenant, install.ExtensionId, ct);
            if (resolved.Install?.Manifest is { UiEntry: not null } manifest && manifest.UiHooks.FirstOrDefault(h => h.Place == "nav") is { } hook)
            {
                nav.Add((PageHref(install.ExtensionId), hook.Label));
            }
        }

        return nav;
    }

    internal static ConsoleViewer? Viewer(HttpContext context, IConsoleSessions sessions) =>
        sessions.Caller(context) is { } caller && sessions.CsrfToken(context) is { } csrf
            ? new ConsoleViewer(caller.TenantId, caller.KeyId, caller.Name, caller.Kind, csrf, caller.Role)
            : null;

    internal static async Task<bool> IsValidFormAsync(HttpContext context, IConsoleSessions sessions)
    {
        if (!IsSameOrigin(context) || !context.Request.HasFormContentType)
        {
            return false;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        return sessions.IsValidCsrf(context, form["csrf"].ToString());
    }

    /// <summary>Browsers say where a form came from; refuse one posted from another site or origin.</summary>
    private static bool IsSameOrigin(HttpContext context)
    {
        var site = context.Request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site != "same-origin")
        {
            return false;
        }

        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length == 0 || string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Every console page: no caching, no framing, scripts and styles from this origin only, frames only from one asset origin.</summary>
    internal static IResult Page(HttpContext context, int status, string html, string? frameSrc)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
        headers.ContentSecurityPolicy = string.Create(CultureInfo.InvariantCulture,
            $"default-src 'self'; frame-src {frameSrc ?? "'none'"}; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    // Shared with the management pages (PublishPage, InstallPages), so that every console page signs in, checks forms and
    // sends its headers the same way.
    internal static async Task<IReadOnlyList<(string Href, string Label)>> NavigationAsync(
        ConsoleViewer viewer, IInstallCatalog catalog, IInstallResolver resolver, CancellationToken ct) =>
        await NavAsync(viewer, await catalog.ListAsync(viewer.Tenant, ct), resolver, ct);
}
