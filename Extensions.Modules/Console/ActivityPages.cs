using System.Globalization;
using System.Text;
using Extensions.Modules.Gateway.Contracts;
using Extensions.Modules.HostApi.Contracts;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Console;

/// <summary>
/// What happened in the signed-in tenant: the audit trail, recent invocations with their usage, and guest log lines. Tenant
/// admins only (an admin key or a user with role <c>admin</c>). Every query is scoped to the viewer's own tenant by the service
/// the admin API uses too; filters only narrow it. Pages go backwards by id (<c>before</c>), newest first.
/// </summary>
internal static class ActivityPages
{
    public const string AuditHref = "/console/audit";
    public const string InvocationsHref = "/console/invocations";
    public const string LogsHref = "/console/logs";
    private const int PageSize = 50;
    private const int MaxFilterChars = 200;
    private static readonly string[] Levels = ["debug", "info", "warn", "error"];

    public static IEnumerable<(string Href, string Label)> Nav { get; } =
        [(AuditHref, "Audit"), (InvocationsHref, "Invocations"), (LogsHref, "Guest logs")];

    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/audit", AuditAsync);
        console.MapGet("/invocations", InvocationsAsync);
        console.MapGet("/logs", LogsAsync);
    }

    private static async Task<IResult> AuditAsync(string? extension, string? subject, long? before, HttpContext context, IConsoleSessions sessions,
        IInstallCatalog catalog, IInstallResolver resolver, IAuditTrail audit)
    {
        if (ConsolePages.Viewer(context, sessions) is not { } viewer) return Results.Redirect("/console/sign-in");
        var (installs, nav) = await InstallsAndNavAsync(viewer, catalog, resolver, context.RequestAborted);
        if (!viewer.IsAdmin) return Forbidden(context, viewer, nav, "Audit", AuditHref);

        extension = Filter(extension);
        subject = Filter(subject);
        var rows = await audit.ListAsync(viewer.Tenant, extension, subject, before, PageSize + 1, context.RequestAborted);
        var main = new StringBuilder("<h1>Audit</h1>")
            .Append("<form method=\"get\" action=\"").Append(AuditHref).Append("\" class=\"filters\" role=\"search\" aria-label=\"Filter the audit trail\">")
            .Append(ExtensionSelect(installs, extension))
            .Append("<div><label for=\"f-subject\">Subject</label><input id=\"f-subject\" name=\"subject\" maxlength=\"200\" value=\"")
            .Append(Html.E(subject)).Append("\" placeholder=\"e.g. samples.hello\"></div>")
            .Append("<button type=\"submit\">Filter</button></form>");
        if (rows.Count == 0)
        {
            main.Append("<p role=\"status\">No audit entries match.</p>");
        }
        else
        {
            main.Append(TableHead("Audit entries", "Time", "Who", "Action", "Subject", "Detail"));
            foreach (var row in rows.Take(PageSize))
            {
                main.Append("<tr data-audit=\"").Append(row.Id.ToString(CultureInfo.InvariantCulture)).Append("\"><td>").Append(Time(row.At))
                    .Append("</td><td><code>").Append(Html.E(row.Actor)).Append("</code></td><td>").Append(Html.E(row.Action))
                    .Append("</td><th scope=\"row\">").Append(Html.E(row.Subject)).Append("</th><td class=\"msg\">").Append(Html.E(row.Detail)).Append("</td></tr>");
            }

            main.Append("</tbody></table></div>");
        }

        main.Append(Pager(AuditHref, rows.Count > PageSize ? rows[PageSize - 1].Id : null, before, ("extension", extension), ("subject", subject)));
        return ConsolePages.Page(context, 200, Html.Page("Audit", main.ToString(), viewer, nav, AuditHref), frameSrc: null);
    }

    private static async Task<IResult> InvocationsAsync(string? extension, string? install, long? before, HttpContext context, IConsoleSessions sessions,
        IInstallCatalog catalog, IInstallResolver resolver, IInvocationLog invocations)
    {
        if (ConsolePages.Viewer(context, sessions) is not { } viewer) return Results.Redirect("/console/sign-in");
        var (installs, nav) = await InstallsAndNavAsync(viewer, catalog, resolver, context.RequestAborted);
        if (!viewer.IsAdmin) return Forbidden(context, viewer, nav, "Invocations", InvocationsHref);

        extension = Filter(extension);
        install = Filter(install);
        var rows = await invocations.ListAsync(new InvocationQuery(viewer.Tenant, extension, install, before, PageSize + 1), context.RequestAborted);
        var main = new StringBuilder("<h1>Invocations</h1>")
            .Append("<form method=\"get\" action=\"").Append(InvocationsHref).Append("\" class=\"filters\" role=\"search\" aria-label=\"Filter invocations\">")
            .Append(ExtensionSelect(installs, extension)).Append(InstallField(install))
            .Append("<button type=\"submit\">Filter</button></form>");
        if (rows.Count == 0)
        {
            main.Append("<p role=\"status\">No invocations match.</p>");
        }
        else
        {
            main.Append(TableHead("Recent invocations", "Time", "Request", "Status", "Code", "Duration", "Fuel", "Memory", "Host calls", "Install"));
            foreach (var row in rows.Take(PageSize))
            {
                main.Append("<tr data-invocation=\"").Append(Html.E(row.RequestId)).Append("\"><td>").Append(Time(DateTimeOffset.FromUnixTimeMilliseconds(row.At)))
                    .Append("</td><th scope=\"row\">").Append(Html.E(row.Method)).Append(' ').Append(Html.E(row.ExtensionId)).Append(' ').Append(Html.E(row.Endpoint))
                    .Append("<br><small><code>").Append(Html.E(row.RequestId)).Append("</code></small></th><td class=\"num\">")
                    .Append(row.Status.ToString(CultureInfo.InvariantCulture)).Append("</td><td><code>").Append(Html.E(row.Code)).Append("</code></td><td class=\"num\">")
                    .Append(row.DurationMs.ToString("0.0", CultureInfo.InvariantCulture)).Append(" ms</td><td class=\"num\">")
                    .Append(row.Fuel.ToString("N0", CultureInfo.InvariantCulture)).Append("</td><td class=\"num\">").Append(Bytes(row.MemoryBytes))
                    .Append("</td><td class=\"num\">").Append(row.HostCalls.ToString(CultureInfo.InvariantCulture)).Append("</td><td>")
                    .Append(InstallLink(InvocationsHref, row.InstallId, row.Version)).Append("</td></tr>");
            }

            main.Append("</tbody></table></div>");
        }

        main.Append(Pager(InvocationsHref, rows.Count > PageSize ? rows[PageSize - 1].Id : null, before, ("extension", extension), ("install", install)));
        return ConsolePages.Page(context, 200, Html.Page("Invocations", main.ToString(), viewer, nav, InvocationsHref), frameSrc: null);
    }

    private static async Task<IResult> LogsAsync(string? extension, string? install, string? level, long? before, HttpContext context, IConsoleSessions sessions,
        IInstallCatalog catalog, IInstallResolver resolver, IGuestLogReader logs)
    {
        if (ConsolePages.Viewer(context, sessions) is not { } viewer) return Results.Redirect("/console/sign-in");
        var (installs, nav) = await InstallsAndNavAsync(viewer, catalog, resolver, context.RequestAborted);
        if (!viewer.IsAdmin) return Forbidden(context, viewer, nav, "Guest logs", LogsHref);

        extension = Filter(extension);
        install = Filter(install);
        level = Filter(level);
        if (level is not null && !Levels.Contains(level))
        {
            var bad = $"<h1>Guest logs</h1><p class=\"alert\" role=\"alert\">Unknown level “{Html.E(level)}”: use one of {string.Join(", ", Levels)}.</p>";
            return ConsolePages.Page(context, 400, Html.Page("Guest logs", bad, viewer, nav, LogsHref), frameSrc: null);
        }

        var rows = await logs.ListAsync(viewer.Tenant, new GuestLogQuery(extension, install, null, level, before, PageSize + 1), context.RequestAborted);
        var main = new StringBuilder("<h1>Guest logs</h1>")
            .Append("<form method=\"get\" action=\"").Append(LogsHref).Append("\" class=\"filters\" role=\"search\" aria-label=\"Filter guest logs\">")
            .Append(ExtensionSelect(installs, extension)).Append(InstallField(install))
            .Append("<div><label for=\"f-level\">Level</label><select id=\"f-level\" name=\"level\"><option value=\"\">any</option>");
        foreach (var l in Levels)
        {
            main.Append("<option").Append(l == level ? " selected" : "").Append('>').Append(l).Append("</option>");
        }

        main.Append("</select></div><button type=\"submit\">Filter</button></form>");
        if (rows.Count == 0)
        {
            main.Append("<p role=\"status\">No log lines match.</p>");
        }
        else
        {
            main.Append(TableHead("Guest log lines", "Time", "Level", "Message", "Extension", "Install", "Request"));
            foreach (var row in rows.Take(PageSize))
            {
                main.Append("<tr data-log=\"").Append(row.Id.ToString(CultureInfo.InvariantCulture)).Append("\"><td>").Append(Time(DateTimeOffset.FromUnixTimeMilliseconds(row.At)))
                    .Append("</td><td><span class=\"level-").Append(Html.E(row.Level)).Append("\">").Append(Html.E(row.Level)).Append("</span></td><th scope=\"row\" class=\"msg\">")
                    .Append(Html.E(row.Message)).Append("</th><td>").Append(Html.E(row.ExtensionId)).Append("</td><td>").Append(InstallLink(LogsHref, row.InstallId, null))
                    .Append("</td><td><code>").Append(Html.E(row.RequestId)).Append("</code></td></tr>");
            }

            main.Append("</tbody></table></div>");
        }

        main.Append(Pager(LogsHref, rows.Count > PageSize ? rows[PageSize - 1].Id : null, before, ("extension", extension), ("install", install), ("level", level)));
        return ConsolePages.Page(context, 200, Html.Page("Guest logs", main.ToString(), viewer, nav, LogsHref), frameSrc: null);
    }

    private static async Task<(IReadOnlyList<InstallSummary>, IReadOnlyList<(string, string)>)> InstallsAndNavAsync(
        ConsoleViewer viewer, IInstallCatalog catalog, IInstallResolver resolver, CancellationToken ct)
    {
        var installs = await catalog.ListAsync(viewer.Tenant, ct);
        return (installs, await ConsolePages.NavAsync(viewer, installs, resolver, ct));
    }

    private static IResult Forbidden(HttpContext context, ConsoleViewer viewer, IReadOnlyList<(string, string)> nav, string title, string href) =>
        ConsolePages.Page(context, 403, Html.Page(title, $"<h1>{Html.E(title)}</h1><p class=\"alert\" role=\"alert\">Only a tenant admin may see this page.</p>",
            viewer, nav, href), frameSrc: null);

    /// <summary>An empty filter is no filter; an over-long one is cut (it can match nothing longer anyway).</summary>
    private static string? Filter(string? value)
    {
        var trimmed = value?.Trim();
        return string.IsNullOrEmpty(trimmed) ? null : trimmed.Length > MaxFilterChars ? trimmed[..MaxFilterChars] : trimmed;
    }

    private static string ExtensionSelect(IReadOnlyList<InstallSummary> installs, string? selected)
    {
        var html = new StringBuilder("<div><label for=\"f-extension\">Extension</label><select id=\"f-extension\" name=\"extension\"><option value=\"\">any</option>");
        var ids = installs.Select(i => i.ExtensionId).ToList();
        if (selected is not null && !ids.Contains(selected))
        {
            ids.Add(selected);
        }

        foreach (var id in ids.Order(StringComparer.Ordinal))
        {
            html.Append("<option").Append(id == selected ? " selected" : "").Append(" value=\"").Append(Html.E(id)).Append("\">").Append(Html.E(id)).Append("</option>");
        }

        return html.Append("</select></div>").ToString();
    }

    private static string InstallField(string? install) =>
        $"<div><label for=\"f-install\">Install id</label><input id=\"f-install\" name=\"install\" maxlength=\"200\" value=\"{Html.E(install)}\" spellcheck=\"false\"></div>";

    private static string InstallLink(string href, string installId, string? version) =>
        $"<a href=\"{href}?install={Uri.EscapeDataString(installId)}\" title=\"Only this install\"><code>{Html.E(installId)}</code></a>"
        + (version is null ? "" : $"<br><small>{Html.E(version)}</small>");

    private static string TableHead(string label, params string[] columns)
    {
        var html = new StringBuilder("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"").Append(Html.E(label)).Append("\"><table><thead><tr>");
        foreach (var column in columns)
        {
            html.Append("<th scope=\"col\">").Append(Html.E(column)).Append("</th>");
        }

        return html.Append("</tr></thead><tbody>").ToString();
    }

    /// <summary>"Older" when there is a next page (keeping the filters), "Newest" when this is not the first page.</summary>
    private static string Pager(string href, long? olderThan, long? before, params (string Name, string? Value)[] filters)
    {
        var query = string.Concat(filters.Where(f => f.Value is not null).Select(f => $"&{f.Name}={Uri.EscapeDataString(f.Value!)}"));
        var html = new StringBuilder("<nav class=\"pager\" aria-label=\"Pages\">");
        if (before is not null)
        {
            html.Append("<a href=\"").Append(Html.E(href + (query.Length > 0 ? "?" + query[1..] : ""))).Append("\">Newest</a>");
        }

        if (olderThan is { } id)
        {
            html.Append("<a rel=\"next\" href=\"").Append(Html.E($"{href}?before={id.ToString(CultureInfo.InvariantCulture)}{query}")).Append("\">Older</a>");
        }

        return html.Append("</nav>").ToString();
    }

    private static string Time(DateTimeOffset at) =>
        $"<time datetime=\"{at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\">{Html.E(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))}</time>";

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1024 * 1024 => (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1024 => (bytes / 1024.0).ToString("0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
