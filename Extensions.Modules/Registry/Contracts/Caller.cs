using System.Security.Claims;

namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// Who is calling: resolved from an API key by the <c>ApiKey</c> authentication scheme, or from a console session (signed in with
/// an API key, or as a tenant user: then <see cref="Kind"/> is <see cref="UserKind"/>, <see cref="KeyId"/> the user's id and
/// <see cref="Role"/> the user's role).
/// </summary>
public sealed record CallerIdentity(string TenantId, string KeyId, string Kind, string Name, string? Role = null)
{
    public const string Scheme = "ApiKey";

    /// <summary>The default scheme: <see cref="Scheme"/> when an Authorization header is sent, else the console session cookie.</summary>
    public const string DefaultScheme = "ApiKeyOrSession";
    public const string AdminPolicy = "admin";
    public const string AdminKind = "admin";
    public const string TenantKind = "tenant";

    /// <summary>A tenant user signed in with a user name and password. Never an operator: the admin API stays closed to users.</summary>
    public const string UserKind = "user";

    /// <summary>A user role: tenant admin (manages the tenant's keys and installs, sees its activity).</summary>
    public const string AdminRole = "admin";

    /// <summary>A user role: opens extension pages and calls extensions, nothing else.</summary>
    public const string UserRole = "user";

    public bool IsAdmin => Kind == AdminKind;

    public static CallerIdentity? From(ClaimsPrincipal user) =>
        user.FindFirst("tenant")?.Value is { } tenant && user.FindFirst("key")?.Value is { } key
            ? new CallerIdentity(tenant, key, user.FindFirst("kind")?.Value ?? TenantKind, user.Identity?.Name ?? key, user.FindFirst("role")?.Value)
            : null;
}
