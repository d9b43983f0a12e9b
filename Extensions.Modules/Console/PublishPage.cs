using System.Text;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Extensions.Modules.Console;

/// <summary>
/// <c>/console/publish</c>: upload a signed bundle (the bundle file and its <c>.sig</c>), and the published versions with a way
/// to install each. The registry verifies everything; its refusal is shown on the page with its code.
/// </summary>
internal static class PublishPage
{
    public const string Href = "/console/publish";

    // A signature file is a few hundred bytes of JSON; anything much larger is not one.
    private const int MaxSignatureBytes = 64 * 1024;

    public static void Map(RouteGroupBuilder console)
    {
        console.MapGet("/publish", ShowAsync);
        console.MapPost("/publish", PublishAsync).DisableAntiforgery();
    }

    private static async Task<IResult> ShowAsync(HttpContext context, [AsParameters] AdminServices services)
    {
        if (ConsolePages.Viewer(context, services.Sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        // A published version is offered to every tenant: publishing takes the operator's key, not a tenant admin's.
        return viewer.Kind != CallerIdentity.AdminKind
            ? await AdminUi.AdminOnlyAsync(context, services, viewer, "Publish")
            : await RenderAsync(context, services, viewer, StatusCodes.Status200OK, null);
    }

    private static async Task<IResult> PublishAsync(HttpContext context, [AsParameters] AdminServices services)
    {
        if (ConsolePages.Viewer(context, services.Sessions) is not { } viewer)
        {
            return Results.Redirect("/console/sign-in");
        }

        if (!await ConsolePages.IsValidFormAsync(context, services.Sessions))
        {
            return ConsolePages.Refused(context);
        }

        if (viewer.Kind != CallerIdentity.AdminKind)
        {
            return await AdminUi.AdminOnlyAsync(context, services, viewer, "Publish");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        try
        {
            var bundle = form.Files["bundle"] is { Length: > 0 } b ? b
                : throw new ExtensionsException(ProblemCodes.InvalidRequest, StatusCodes.Status400BadRequest, "choose the bundle file (.extb) to publish");
            var signature = form.Files["signature"] is { Length: > 0 } s ? s
                : throw new ExtensionsException(ProblemCodes.SignatureRejected, StatusCodes.Status422UnprocessableEntity,
                    "choose the bundle's signature file (.sig): bundles must be signed (see the 'sign' verb)");
            if (signature.Length > MaxSignatureBytes)
            {
                throw new ExtensionsException(ProblemCodes.SignatureRejected, StatusCodes.Status422UnprocessableEntity, "the signature file is too large to be a signature");
            }

            using var buffer = new MemoryStream((int)Math.Min(bundle.Length, int.MaxValue));
            await bundle.CopyToAsync(buffer, context.RequestAborted);
            using var reader = new StreamReader(signature.OpenReadStream());
            var result = await services.Registry.PublishAsync(buffer.ToArray(), await reader.ReadToEndAsync(context.RequestAborted), $"console:{viewer.KeyId}",
                context.RequestAborted);
            var news = result.AlreadyPublished
                ? $"{result.ExtensionId} {result.Version} was already published with this content ({result.ContentHash}); nothing changed."
                : $"Published {result.ExtensionId} {result.Version} ({result.ContentHash}), signed by {result.SignerKeyId}.";
            return AdminUi.RedirectWithFlash(context, Href, news);
        }
        catch (ExtensionsException problem)
        {
            return await RenderAsync(context, services, viewer, problem.Status, problem);
        }
    }

    private static async Task<IResult> RenderAsync(HttpContext context, AdminServices services, ConsoleViewer viewer, int status, ExtensionsException? problem)
    {
        var main = new StringBuilder("<h1>Publish</h1>");
        main.Append("<section class=\"card admin-section\" aria-labelledby=\"upload-title\"><h2 id=\"upload-title\">Upload a signed bundle</h2>");
        if (problem is not null)
        {
            main.Append(AdminUi.Problem(problem, "publish-error"));
        }

        main.Append("<form method=\"post\" action=\"").Append(Href).Append("\" enctype=\"multipart/form-data\" class=\"stack\">")
            .Append(Html.CsrfField(viewer.Csrf))
            .Append("<label for=\"bundle\">Bundle file</label>")
            .Append("<input id=\"bundle\" name=\"bundle\" type=\"file\" required accept=\".extb,.tar,.gz,.tgz,application/gzip,application/x-tar\" aria-describedby=\"bundle-help\">")
            .Append("<p id=\"bundle-help\" class=\"muted\">Made with <code>pack DIR --out FILE</code>.</p>")
            .Append("<label for=\"signature\">Signature file</label>")
            .Append("<input id=\"signature\" name=\"signature\" type=\"file\" required accept=\".sig,.json,application/json\" aria-describedby=\"signature-help\">")
            .Append("<p id=\"signature-help\" class=\"muted\">Made with <code>sign FILE --key KEY</code>; the signer must be in the trust bundle.</p>")
            .Append("<div><button type=\"submit\">Publish</button></div></form></section>");

        var versions = await services.Registry.ListVersionsAsync(null, context.RequestAborted);
        var installed = (await services.Catalog.ListAsync(viewer.Tenant, context.RequestAborted)).ToDictionary(i => i.ExtensionId, StringComparer.Ordinal);
        main.Append("<section class=\"admin-section\" aria-labelledby=\"published-title\"><h2 id=\"published-title\">Published versions</h2>");
        if (versions.Count == 0)
        {
            main.Append("<p>Nothing is published yet.</p>");
        }
        else
        {
            main.Append("<div class=\"table-wrap stack-narrow\" tabindex=\"0\" role=\"region\" aria-labelledby=\"published-title\"><table><thead><tr>")
                .Append("<th scope=\"col\">Extension</th><th scope=\"col\">Version</th><th scope=\"col\">Content hash</th><th scope=\"col\">Published</th>")
                .Append("<th scope=\"col\">For tenant ").Append(Html.E(viewer.Tenant)).Append("</th></tr></thead><tbody>");
            foreach (var version in versions.Reverse())
            {
                main.Append("<tr data-version=\"").Append(Html.E($"{version.ExtensionId}@{version.Version}")).Append("\"><th scope=\"row\">")
                    .Append(Html.E(version.ExtensionId)).Append("</th><td data-label=\"Version\">").Append(Html.E(version.Version))
                    .Append("</td><td data-label=\"Content hash\">").Append(Html.Hash(version.ContentHash))
                    .Append("</td><td data-label=\"Published\">").Append(AdminUi.When(version.PublishedAt)).Append("</td><td>");
                if (!installed.TryGetValue(version.ExtensionId, out var install))
                {
                    main.Append("<a href=\"").Append(Html.E(InstallPages.ConsentHref(version.ExtensionId, version.Version))).Append("\">Install ")
                        .Append(Html.E(version.Version)).Append("…</a>");
                }
                else if (install.ContentHash == version.ContentHash)
                {
                    main.Append("Installed (").Append(Html.E(install.State)).Append(") · ").Append(InstallPages.ManageLink(version.ExtensionId, "Manage"));
                }
                else
                {
                    main.Append("Runs ").Append(Html.E(install.Version)).Append(" · ").Append(InstallPages.ManageLink(version.ExtensionId, "Upgrade or roll back"));
                }

                main.Append("</td></tr>");
            }

            main.Append("</tbody></table></div>");
        }

        main.Append("</section>");
        return await AdminUi.PageAsync(context, services, viewer, status, "Publish", main.ToString(), Href);
    }
}
