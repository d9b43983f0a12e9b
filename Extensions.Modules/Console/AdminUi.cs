using System.Globalization;
using System.Text;
using Extensions.Modules.Bundles;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Console;

/// <summary>The services every management page uses, bound with <c>[AsParameters]</c>.</summary>
internal sealed record AdminServices(
    IConsoleSessions Sessions, IInstallCatalog Catalog, IInstallResolver Resolver, IRegistryAdmin Registry, IInstallSecrets Secrets);

/// <summary>What the management pages share: page frame, flash messages after a redirect, refusals, and plain words for grants.</summary>
internal static class AdminUi
{
    private const string FlashCookie = "ext_flash";
    private const int MaxFlashChars = 300;

    public static async Task<IResult> PageAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, int status, string title, string main, string? currentHref = null)
    {
        var nav = await ConsolePages.NavigationAsync(viewer, services.Catalog, services.Resolver, context.RequestAborted);
        return ConsolePages.Page(context, status, Html.Page(title, TakeFlash(context) + main, viewer, nav, currentHref), frameSrc: null);
    }

    public static Task<IResult> AdminOnlyAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, string title) =>
        PageAsync(context, services, viewer, StatusCodes.Status403Forbidden, title,
            $"<h1>{Html.E(title)}</h1><p class=\"alert\" role=\"alert\">Only an admin key may do this; this session signed in with a tenant key.</p>");

    public static Task<IResult> NotInstalledAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, string extensionId) =>
        PageAsync(context, services, viewer, StatusCodes.Status404NotFound, "Not found",
            $"<h1>Not found</h1><p>{Html.E(extensionId)} is not installed for tenant {Html.E(viewer.Tenant)}.</p>");

    /// <summary>After a change the browser is sent elsewhere (so a reload does not repeat it), carrying one line of news in a short-lived cookie.</summary>
    public static IResult RedirectWithFlash(HttpContext context, string href, string message)
    {
        context.Response.Cookies.Append(FlashCookie, Uri.EscapeDataString(message.Length > MaxFlashChars ? message[..MaxFlashChars] : message), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = ConsoleSession.ConsolePath,
            MaxAge = TimeSpan.FromMinutes(1),
            IsEssential = true,
        });
        return Results.Redirect(href);
    }

    /// <summary>The flash message left by the last redirect, once.</summary>
    public static string TakeFlash(HttpContext context)
    {
        if (context.Request.Cookies[FlashCookie] is not { Length: > 0 } raw)
        {
            return "";
        }

        context.Response.Cookies.Delete(FlashCookie, new CookieOptions { Path = ConsoleSession.ConsolePath });
        var message = Uri.UnescapeDataString(raw);
        return $"<p class=\"flash\" role=\"status\" id=\"flash\">{Html.E(message.Length > MaxFlashChars ? message[..MaxFlashChars] : message)}</p>";
    }

    /// <summary>A refusal from the registry, with its stable code and its detail as the admin API would answer.</summary>
    public static string Problem(ExtensionsException problem, string? id = "problem") =>
        $"<div class=\"alert\" role=\"alert\"{(id is null ? "" : $" id=\"{id}\"")}><p><strong>{Html.E(Headline(problem.Code))}</strong> <code>{Html.E(problem.Code)}</code></p><p>{Html.E(problem.Message)}</p></div>";

    private static string Headline(string code) => code switch
    {
        ProblemCodes.InvalidBundle => "The bundle was refused.",
        ProblemCodes.SignatureRejected => "The signature was refused.",
        ProblemCodes.VersionConflict => "That version already exists with other content.",
        ProblemCodes.PayloadTooLarge => "That is too large.",
        ProblemCodes.ConsentRequired => "Consent is needed first.",
        ProblemCodes.InvalidConfig => "The settings were refused.",
        ProblemCodes.InvalidState => "That change does not apply now.",
        ProblemCodes.NotFound => "Not found.",
        _ => "The registry refused this.",
    };

    /// <summary>A capability as the admin should read it before granting it.</summary>
    public static string Capability(string name) => name switch
    {
        Capabilities.Log => "Write log lines that admins can read.",
        Capabilities.Kv => "Keep its own data (key-value storage for this install only).",
        Capabilities.Secrets => "Read the secrets you set for this install.",
        Capabilities.HttpFetch => "Make HTTP requests to the hosts listed under network access.",
        _ => $"Use the capability {name}.",
    };

    public static string EgressHost(string host) =>
        host.StartsWith("*.", StringComparison.Ordinal) ? $"{host[2..]} and any of its subdomains" : host;

    /// <summary>The grants as a list in plain words, each with its exact name; "none" said in words.</summary>
    public static string GrantList(IReadOnlyList<string> capabilities, IReadOnlyList<string> egressHosts, string idPrefix)
    {
        var html = new StringBuilder("<h3 id=\"").Append(idPrefix).Append("-caps\">Capabilities</h3>");
        if (capabilities.Count == 0)
        {
            html.Append("<p>None: it can only answer requests sent to it.</p>");
        }
        else
        {
            html.Append("<ul class=\"grants\" aria-labelledby=\"").Append(idPrefix).Append("-caps\">");
            foreach (var capability in capabilities)
            {
                html.Append("<li>").Append(Html.E(Capability(capability))).Append(" <code>").Append(Html.E(capability)).Append("</code></li>");
            }

            html.Append("</ul>");
        }

        html.Append("<h3 id=\"").Append(idPrefix).Append("-egress\">Network access</h3>");
        if (egressHosts.Count == 0)
        {
            html.Append("<p>None: it may not connect to any host.</p>");
        }
        else
        {
            html.Append("<p>It may connect to:</p><ul class=\"grants\" aria-labelledby=\"").Append(idPrefix).Append("-egress\">");
            foreach (var host in egressHosts)
            {
                html.Append("<li>").Append(Html.E(EgressHost(host))).Append(" <code>").Append(Html.E(host)).Append("</code></li>");
            }

            html.Append("</ul>");
        }

        return html.ToString();
    }

    /// <summary>Hidden fields carrying exactly the grants the page showed, which the registry then checks as the consent.</summary>
    public static string ConsentFields(IEnumerable<string> capabilities, IEnumerable<string> egressHosts)
    {
        var html = new StringBuilder();
        foreach (var capability in capabilities)
        {
            html.Append("<input type=\"hidden\" name=\"capability\" value=\"").Append(Html.E(capability)).Append("\">");
        }

        foreach (var host in egressHosts)
        {
            html.Append("<input type=\"hidden\" name=\"egress\" value=\"").Append(Html.E(host)).Append("\">");
        }

        return html.ToString();
    }

    public static string When(DateTimeOffset at) => $"<time datetime=\"{at.UtcDateTime:O}\">{Html.E(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))}</time>";
}
