using System.Security.Claims;

namespace Extensions.Modules.Registry.Contracts;

/// <summary>Who is calling: resolved from an API key by the <c>ApiKey</c> authentication scheme.</summary>
public sealed record CallerIdentity(string TenantId, string KeyId, string Kind, string Name)
{
    public const string Scheme = "ApiKey";

    /// <summary>The default scheme: <see cref="Scheme"/> when an Authorization header is sent, else the console session cookie.</summary>
    public const string DefaultScheme = "ApiKeyOrSession";
    public const string AdminPolicy = "admin";
    public const string AdminKind = "admin";
    public const string TenantKind = "tenant";

    public bool IsAdmin => Kind == AdminKind;

    public static CallerIdentity? From(ClaimsPrincipal user) =>
        user.FindFirst("tenant")?.Value is { } tenant && user.FindFirst("key")?.Value is { } key
            ? new CallerIdentity(tenant, key, user.FindFirst("kind")?.Value ?? TenantKind, user.Identity?.Name ?? key)
            : null;
}
