using System.Text;
using System.Text.Encodings.Web;
using Extensions.Modules.Registry.Contracts;

namespace Extensions.Modules.Console;

/// <summary>HTML built by hand, every value encoded: the console has a few small pages and needs no view engine.</summary>
internal static class Html
{
    public static string E(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    /// <summary>A full page: skip link, header with navigation and session controls, main content.</summary>
    public static string Page(string title, string main, ConsoleViewer? viewer, IReadOnlyList<(string Href, string Label)> nav, string? currentHref = null)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"color-scheme\" content=\"light dark\">")
            .Append("<title>").Append(E(title)).Append(" · Extensions</title>")
            .Append("<link rel=\"stylesheet\" href=\"/console/static/ui-kit.css\">")
            .Append("<link rel=\"stylesheet\" href=\"/console/static/console.css\">")
            .Append("<link rel=\"stylesheet\" href=\"/console/static/console-admin.css\">")
            .Append("<script type=\"module\" src=\"/console/static/console.js\"></script>");
        if (viewer is not null)
        {
            html.Append("<meta name=\"ext-csrf\" content=\"").Append(E(viewer.Csrf)).Append("\">");
        }

        html.Append("</head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\">")
            .Append("<a class=\"brand\" href=\"/console/extensions\">Extensions</a>");
        if (viewer is not null)
        {
            html.Append("<nav aria-label=\"Console\"><ul>");
            foreach (var (href, label) in nav)
            {
                html.Append("<li><a href=\"").Append(E(href)).Append('"')
                    .Append(href == currentHref ? " aria-current=\"page\"" : "")
                    .Append('>').Append(E(label)).Append("</a></li>");
            }

            html.Append("</ul></nav><div class=\"session\">")
                .Append("<span class=\"who\">").Append(E(viewer.Name)).Append(" · ").Append(E(viewer.Tenant)).Append("</span>")
                .Append("<button type=\"button\" id=\"theme-toggle\" aria-pressed=\"false\">Dark theme</button>")
                .Append("<form method=\"post\" action=\"/console/sign-out\">").Append(CsrfField(viewer.Csrf))
                .Append("<button type=\"submit\">Sign out</button></form></div>");
        }

        html.Append("</header><main id=\"main\" tabindex=\"-1\">").Append(main).Append("</main></body></html>");
        return html.ToString();
    }

    public static string CsrfField(string csrf) => $"<input type=\"hidden\" name=\"csrf\" value=\"{E(csrf)}\">";

    /// <summary>The first 12 hex digits of a content hash, the full hash in a title for copying.</summary>
    public static string Hash(string contentHash) =>
        $"<code title=\"{E(contentHash)}\">{E(contentHash.Length > 19 ? contentHash[..19] + "…" : contentHash)}</code>";
}

/// <summary>Who is looking at a console page. <see cref="KeyId"/> is the API key's or the user's id; <see cref="Role"/> is a user's role.</summary>
internal sealed record ConsoleViewer(string Tenant, string KeyId, string Name, string Kind, string Csrf, string? Role = null)
{
    /// <summary>A tenant admin: signed in with an admin key, or a user with role <c>admin</c>. Only they manage keys and installs
    /// and see the activity pages; everyone signed in may open extension pages.</summary>
    public bool IsAdmin => Kind == CallerIdentity.AdminKind || (Kind == CallerIdentity.UserKind && Role == CallerIdentity.AdminRole);
}
