using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Extensions.Modules.Assets;

/// <summary>
/// <c>GET/HEAD /ext-ui/{extensionId}/{contentHash}/{**path}</c> on the asset origin (the host keeps this route off the console
/// origin): parse the raw target, check the Host is the extension's own origin, check the hash is an installed version, then
/// send the file with immutable caching, a strong ETag, <c>nosniff</c> and a CSP that only the console may frame.
/// </summary>
internal static class AssetEndpoint
{
    public const string Route = "/ext-ui/{**path}";
    public const string CacheControl = "public, max-age=31536000, immutable";

    /// <summary>Reserved path of the host's iframe SDK under every installed bundle (the UI kit sits beside it, see <see cref="SdkFiles"/>);
    /// it wins over a bundle file of that name.</summary>
    public const string SdkPath = "_sdk/iframe.js";

    public static async Task HandleAsync(HttpContext context, AssetOrigins origins, IInstalledBundles installed, UiBundleCache cache, SdkFiles sdk)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var (request, problem) = AssetPath.Parse(rawTarget);
        if (request is null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest, problem!);
            return;
        }

        if (!origins.IsHostOf(context.Request.Host.Host, request.ExtensionId))
        {
            await Problems.WriteAsync(context, StatusCodes.Status421MisdirectedRequest, ProblemCodes.WrongAssetOrigin,
                $"{request.ExtensionId}'s UI is served only on {origins.OriginFor(request.ExtensionId)}");
            return;
        }

        if (!await installed.IsInstalledVersionAsync(request.ExtensionId, request.ContentHash, context.RequestAborted))
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.NotFound,
                $"{request.ContentHash} is not an installed version of {request.ExtensionId}");
            return;
        }

        if (sdk.Find(request.FilePath) is { } hostFile)
        {
            // The SDK and the UI kit change with the host, not with the bundle: revalidate them instead of caching them forever.
            await SendAsync(context, hostFile, "no-cache", origins);
            return;
        }

        IReadOnlyDictionary<string, UiFile> files;
        try
        {
            files = await cache.GetAsync(request.ContentHash);
        }
        catch (BundleUnavailableException)
        {
            await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.ExtensionFailed,
                "the bundle cannot be read from the content store; an operator must look at it");
            return;
        }

        // Exact paths only: no directory listing and no index.html fallback.
        if (!files.TryGetValue(request.FilePath, out var file))
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"the bundle has no UI file '{request.FilePath}'");
            return;
        }

        await SendAsync(context, file, CacheControl, origins);
    }

    public static async Task SendAsync(HttpContext context, UiFile file, string cacheControl, AssetOrigins origins)
    {
        var headers = context.Response.Headers;
        headers.ETag = file.ETag;
        headers.CacheControl = cacheControl;
        headers.ContentSecurityPolicy = $"default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors {string.Join(' ', origins.ConsoleOrigins)}";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Referrer-Policy"] = "no-referrer";
        if (Matches(context.Request.Headers.IfNoneMatch, file.ETag))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = file.ContentType;
        context.Response.ContentLength = file.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(file.Content, context.RequestAborted);
        }
    }

    /// <summary>If-None-Match uses the weak comparison (RFC 9110 13.1.2): <c>W/"x"</c> matches <c>"x"</c>; <c>*</c> matches anything.</summary>
    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Count == 0 || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }

        var ours = new EntityTagHeaderValue(etag);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(ours, useStrongComparison: false));
    }
}
