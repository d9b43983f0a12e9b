using Dapper;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Gateway;

/// <summary>
/// Cross-origin calls, off unless an operator allows origins for an install (tenant + extension). Origins are compared
/// exactly against the list; nothing is reflected that is not on it, <c>*</c> is never sent, and credentials are never
/// allowed: callers authenticate with a bearer key, which a page has to hold itself, so cookies never need to cross.
/// </summary>
internal sealed class CorsPolicy(IDatabase database, IOptions<GatewayOptions> options)
{
    /// <summary>Request headers a cross-origin page may send (besides its own <c>x-</c> headers).</summary>
    private static readonly HashSet<string> AllowedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "content-type", "accept", "accept-language", "if-match", "if-none-match", "if-modified-since",
        IdempotencyStore.Header, Problems.RequestIdHeader,
    };

    private const string ExposedHeaders = "x-request-id, x-ext-fuel, x-ext-duration-ms, x-ext-memory-bytes, retry-after, " + IdempotencyStore.ReplayedHeader;

    private volatile Dictionary<(string Tenant, string Extension), string[]>? _snapshot;
    private long _generation;

    public static Migration Migration { get; } = new("gateway", 3, """
        CREATE TABLE gateway_cors_origins (
            tenant_id TEXT NOT NULL,
            extension_id TEXT NOT NULL,
            origin TEXT NOT NULL,
            PRIMARY KEY (tenant_id, extension_id, origin));
        """);

    /// <summary><c>https://app.example.com[:port]</c>, lower case, nothing after the authority.</summary>
    public static string? Normalise(string origin)
    {
        var text = origin.EndsWith('/') ? origin[..^1] : origin;
        if (text.Contains('*') || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.UserInfo.Length > 0 || uri.Host.Length == 0)
        {
            return null;
        }

        var authority = uri.GetLeftPart(UriPartial.Authority);
        return string.Equals(authority, text, StringComparison.OrdinalIgnoreCase) ? authority.ToLowerInvariant() : null;
    }

    public async Task<string[]> OriginsAsync(string tenantId, string extensionId, CancellationToken ct) =>
        (await SnapshotAsync(ct)).TryGetValue((tenantId, extensionId), out var origins) ? origins : [];

    /// <summary>Whether any install of the extension allows the origin: a preflight carries no key, so its tenant is unknown.
    /// The real request is then held to its own tenant's list.</summary>
    public async Task<bool> AnyInstallAllowsAsync(string extensionId, string origin, CancellationToken ct) =>
        (await SnapshotAsync(ct)).Any(e => e.Key.Extension == extensionId && e.Value.Contains(origin, StringComparer.Ordinal));

    public async Task ReplaceAsync(string tenantId, string extensionId, IReadOnlyList<string> origins, CancellationToken ct)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM gateway_cors_origins WHERE tenant_id = @tenantId AND extension_id = @extensionId", new { tenantId, extensionId }, tx, cancellationToken: ct));
            foreach (var origin in origins)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO gateway_cors_origins (tenant_id, extension_id, origin) VALUES (@tenantId, @extensionId, @origin)",
                    new { tenantId, extensionId, origin }, tx, cancellationToken: ct));
            }

            await tx.CommitAsync(ct);
        }

        Interlocked.Increment(ref _generation);
        _snapshot = null;
    }

    private async ValueTask<Dictionary<(string Tenant, string Extension), string[]>> SnapshotAsync(CancellationToken ct)
    {
        if (_snapshot is { } snapshot)
        {
            return snapshot;
        }

        // Loads may overlap (the table is small); one that raced a change is used once but not kept.
        var generation = Interlocked.Read(ref _generation);
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<(string TenantId, string ExtensionId, string Origin)>(new CommandDefinition(
            "SELECT tenant_id, extension_id, origin FROM gateway_cors_origins", cancellationToken: ct));
        var fresh = rows.GroupBy(r => (r.TenantId, r.ExtensionId)).ToDictionary(g => g.Key, g => g.Select(r => r.Origin).ToArray());
        if (Interlocked.Read(ref _generation) == generation)
        {
            _snapshot = fresh;
        }

        return fresh;
    }

    /// <summary>The request's <c>Origin</c> when it is a cross-origin call (a page on another origin); null otherwise.</summary>
    public static string? CrossOrigin(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        var own = $"{context.Request.Scheme}://{context.Request.Host.Value}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) ? null : origin.ToLowerInvariant();
    }

    /// <summary>Headers that let the page read the response; set before anything is written so problems carry them too.</summary>
    public static void Allow(HttpResponse response, string origin)
    {
        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.AccessControlExposeHeaders = ExposedHeaders;
        response.Headers.Append("Vary", "Origin");
    }

    /// <summary>Answers a preflight: 204 with what the page may send, or 403 when no install allows the origin.</summary>
    public async Task PreflightAsync(HttpContext context, string extensionId, string origin)
    {
        var response = context.Response;
        response.Headers.Append("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        var method = context.Request.Headers.AccessControlRequestMethod.ToString().ToUpperInvariant();
        if (!await AnyInstallAllowsAsync(extensionId, origin, context.RequestAborted))
        {
            await Problems.WriteAsync(context, 403, ProblemCodes.CorsOriginDenied, $"origin '{origin}' may not call {extensionId}");
            return;
        }

        if (method is not ("GET" or "HEAD" or "POST" or "PUT" or "PATCH" or "DELETE"))
        {
            await Problems.WriteAsync(context, 400, ProblemCodes.InvalidRequest, $"method '{method}' is not served by extensions");
            return;
        }

        var requested = context.Request.Headers.AccessControlRequestHeaders.ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.AccessControlAllowMethods = method;
        var allowed = requested.Where(h => AllowedRequestHeaders.Contains(h) || (h.StartsWith("x-", StringComparison.OrdinalIgnoreCase) && !h.StartsWith("x-forwarded-", StringComparison.OrdinalIgnoreCase))).ToArray();
        if (allowed.Length > 0)
        {
            response.Headers.AccessControlAllowHeaders = string.Join(", ", allowed.Select(h => h.ToLowerInvariant()));
        }

        response.Headers.AccessControlMaxAge = "600";
        response.StatusCode = 204;
    }

    public static void MapAdmin(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/admin/installs/{tenant}/{extensionId}/cors")
            .RequireAuthorization(CallerIdentity.AdminPolicy).WithTags("Admin");
        group.MapGet("", GetAsync).WithName("GetInstallCors");
        group.MapPut("", PutAsync).WithName("PutInstallCors");
    }

    internal sealed record CorsBody(List<string?>? Origins);

    private static async Task<IResult> GetAsync(string tenant, string extensionId, CorsPolicy cors, IInstallResolver installs, CancellationToken ct)
    {
        await EnsureInstalledAsync(tenant, extensionId, installs, ct);
        return Results.Ok(new { tenant, extensionId, origins = await cors.OriginsAsync(tenant, extensionId, ct) });
    }

    private static async Task<IResult> PutAsync(string tenant, string extensionId, CorsBody? body, CorsPolicy cors, IInstallResolver installs, CancellationToken ct)
    {
        await EnsureInstalledAsync(tenant, extensionId, installs, ct);
        var origins = body?.Origins ?? throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "send {\"origins\": [\"https://app.example.com\", ...]} (an empty list turns CORS off)");
        if (origins.Count > cors.MaxOrigins)
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, $"at most {cors.MaxOrigins} origins per install");
        }

        var normalised = new List<string>();
        foreach (var origin in origins)
        {
            normalised.Add(origin is null ? throw Invalid("null") : Normalise(origin) ?? throw Invalid(origin));
        }

        var distinct = normalised.Distinct(StringComparer.Ordinal).ToList();
        await cors.ReplaceAsync(tenant, extensionId, distinct, ct);
        return Results.Ok(new { tenant, extensionId, origins = distinct });

        static ExtensionsException Invalid(string origin) => new(ProblemCodes.InvalidRequest, 400,
            $"'{(origin.Length > 100 ? origin[..100] : origin)}' is not an origin: use scheme://host[:port] with http or https, no path and no wildcard");
    }

    private int MaxOrigins => options.Value.MaxCorsOrigins;

    private static async Task EnsureInstalledAsync(string tenant, string extensionId, IInstallResolver installs, CancellationToken ct)
    {
        var resolved = await installs.ResolveAsync(tenant, extensionId, ct);
        if (resolved.Install is null && resolved.Failure == ResolveFailure.NotInstalled)
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"'{extensionId}' is not installed for tenant '{tenant}'");
        }
    }
}
