using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// Console sign-in: an API key, or a tenant user's name and password, is exchanged for a session cookie (HttpOnly, SameSite=Strict, Secure on https) that also
/// authenticates <c>/api/...</c> calls, but only when they carry the session's CSRF token in <see cref="CsrfHeader"/>.
/// </summary>
public interface IConsoleSessions
{
    /// <summary>Checks the key and starts a session; null (and no cookie) when the key is unknown or revoked.</summary>
    Task<CallerIdentity?> SignInAsync(HttpContext context, string apiKey);

    /// <summary>Checks a tenant user's password (throttled per user name and address, audited) and starts a session carrying the
    /// tenant, the user's id and role.</summary>
    Task<UserSignIn> SignInUserAsync(HttpContext context, string tenant, string userName, string password);

    Task SignOutAsync(HttpContext context);

    /// <summary>The signed-in session's caller, or null when the request has no valid session.</summary>
    CallerIdentity? Caller(HttpContext context);

    /// <summary>The session's CSRF token, for forms and for the console's API calls; null without a session.</summary>
    string? CsrfToken(HttpContext context);

    /// <summary>True when <paramref name="presented"/> is the session's CSRF token (constant-time).</summary>
    bool IsValidCsrf(HttpContext context, string? presented);
}

/// <summary>Names shared by the session scheme and its callers.</summary>
public static class ConsoleSession
{
    public const string Scheme = "Session";
    public const string CookieName = "ext_session";
    public const string CsrfHeader = "x-ext-csrf";
    public const string CsrfClaim = "csrf";

    /// <summary>Paths whose requests may use the session without the CSRF header: the console's own pages (forms carry the token).</summary>
    public const string ConsolePath = "/console";
}
