using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Auth;

/// <summary>
/// Console sessions on ASP.NET Core's cookie handler: the ticket (tenant, key id, kind, CSRF token) is encrypted with Data
/// Protection keys kept under <c>{data}/keys/sessions</c>, so sessions survive a restart. Every request re-checks that the key
/// behind the session is not revoked, and any request outside the console's pages must echo the CSRF token in a header: a
/// cross-origin page can't set that header without a CORS preflight, which this host never grants.
/// </summary>
internal sealed partial class ConsoleSessions(ApiKeys keys, RegistryStore store, TenantUsers users, SignInThrottle throttle, ILogger<ConsoleSessions> logger)
    : IConsoleSessions
{
    private const string StampClaim = "stamp";
    private const string RoleClaim = "role";

    private readonly ConcurrentDictionary<string, (long Generation, bool Active)> _active = new(StringComparer.Ordinal);

    public async Task<CallerIdentity?> SignInAsync(HttpContext context, string apiKey)
    {
        var caller = await keys.AuthenticateAsync(apiKey.Trim(), context.RequestAborted);
        if (caller is null)
        {
            return null;
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, caller.Name),
            new Claim("tenant", caller.TenantId),
            new Claim("key", caller.KeyId),
            new Claim("kind", caller.Kind),
            new Claim(ConsoleSession.CsrfClaim, NewCsrf()),
        ], ConsoleSession.Scheme);
        await context.SignInAsync(ConsoleSession.Scheme, new ClaimsPrincipal(identity));
        await store.AuditAsync(caller.TenantId, caller.KeyId, "console.signin", caller.KeyId, $"{caller.Kind} key '{caller.Name}'", context.RequestAborted);
        return caller;
    }

    public async Task<UserSignIn> SignInUserAsync(HttpContext context, string tenant, string userName, string password)
    {
        var ct = context.RequestAborted;
        tenant = tenant.Trim();
        userName = TenantUsers.Normalise(userName);
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.Blocked(tenant, userName, address) is { } wait)
        {
            Log.Throttled(logger, tenant, userName, address);
            return new UserSignIn(UserSignInOutcome.Throttled, RetryAfter: wait);
        }

        var tenantExists = tenant.Length is > 0 and <= 63 && await store.TenantExistsAsync(tenant, ct);
        var user = await users.VerifyAsync(tenantExists ? tenant : "", userName, password, ct);
        if (user is null)
        {
            var startsNow = throttle.Fail(tenant, userName, address);
            if (tenantExists)
            {
                // Bounded by the throttle: at most SignInMaxFailures rows per name and address per window.
                await store.AuditAsync(tenant, "anonymous", "console.signin.failed", userName, $"wrong user name or password from {address}", ct);
                if (startsNow)
                {
                    await store.AuditAsync(tenant, "anonymous", "console.signin.throttled", userName, $"too many failed sign-ins from {address}", ct);
                }
            }

            return startsNow
                ? new UserSignIn(UserSignInOutcome.Throttled, RetryAfter: throttle.Blocked(tenant, userName, address) ?? TimeSpan.FromSeconds(1))
                : new UserSignIn(UserSignInOutcome.WrongCredentials);
        }

        if (user.DisabledAt is not null)
        {
            await store.AuditAsync(tenant, user.Id, "console.signin.disabled", user.Id, $"disabled user '{user.Name}' from {address}", ct);
            return new UserSignIn(UserSignInOutcome.Disabled);
        }

        var caller = new CallerIdentity(user.TenantId, user.Id, CallerIdentity.UserKind, user.Name, user.Role);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, user.Name),
            new Claim("tenant", user.TenantId),
            new Claim("key", user.Id),
            new Claim("kind", CallerIdentity.UserKind),
            new Claim(RoleClaim, user.Role),
            new Claim(StampClaim, user.Stamp),
            new Claim(ConsoleSession.CsrfClaim, NewCsrf()),
        ], ConsoleSession.Scheme);
        await context.SignInAsync(ConsoleSession.Scheme, new ClaimsPrincipal(identity));
        await store.AuditAsync(user.TenantId, user.Id, "console.signin", user.Id, $"{user.Role} user '{user.Name}'", ct);
        return new UserSignIn(UserSignInOutcome.SignedIn, caller);
    }

    private static string NewCsrf() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    public Task SignOutAsync(HttpContext context) => context.SignOutAsync(ConsoleSession.Scheme);

    public CallerIdentity? Caller(HttpContext context) =>
        context.User.Identity?.AuthenticationType == ConsoleSession.Scheme ? CallerIdentity.From(context.User) : null;

    public string? CsrfToken(HttpContext context) => Caller(context) is null ? null : context.User.FindFirst(ConsoleSession.CsrfClaim)?.Value;

    public bool IsValidCsrf(HttpContext context, string? presented) =>
        CsrfToken(context) is { } expected && presented is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(presented));

    /// <summary>Cookie handler hook: drop sessions whose key was revoked or whose user was disabled or given a new password, and API
    /// calls without the CSRF header.</summary>
    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal!;
        var keyId = principal.FindFirst("key")?.Value;
        var csrf = principal.FindFirst(ConsoleSession.CsrfClaim)?.Value;
        var request = context.HttpContext.Request;
        var needsHeader = !request.Path.StartsWithSegments(ConsoleSession.ConsolePath);
        var presented = request.Headers[ConsoleSession.CsrfHeader].ToString();
        var ct = context.HttpContext.RequestAborted;
        var active = keyId is not null && (principal.FindFirst("kind")?.Value == CallerIdentity.UserKind
            ? principal.FindFirst(StampClaim)?.Value is { } stamp && await users.IsSessionValidAsync(keyId, stamp, ct)
            : await IsActiveAsync(keyId, ct));
        if (csrf is null || !active
            || (needsHeader && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(csrf), Encoding.UTF8.GetBytes(presented))))
        {
            context.RejectPrincipal();
        }
    }

    private async Task<bool> IsActiveAsync(string keyId, CancellationToken ct)
    {
        var generation = store.Generation;
        if (_active.TryGetValue(keyId, out var cached) && cached.Generation == generation)
        {
            return cached.Active;
        }

        await using var c = await store.OpenAsync(ct);
        var active = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM registry_api_keys WHERE id = @keyId AND revoked_at IS NULL", new { keyId }, cancellationToken: ct)) > 0;
        if (_active.Count > 10_000)
        {
            _active.Clear();
        }

        _active[keyId] = (generation, active);
        return active;
    }

    /// <summary>The session key ring is stored unencrypted (no machine key store here), so only the host's user may read it.</summary>
    private static DirectoryInfo PrivateDirectory(string path) =>
        OperatingSystem.IsWindows()
            ? Directory.CreateDirectory(path)
            : Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    /// <summary>Registers the session scheme, its Data Protection key ring, and the default scheme that picks API key or session.</summary>
    public static void Register(IServiceCollection services, AuthenticationBuilder authentication)
    {
        services.AddDataProtection().SetApplicationName("extensions");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<StorageOptions>, ILoggerFactory>((o, storage, loggers) =>
            o.XmlRepository = new FileSystemXmlRepository(PrivateDirectory(Path.Combine(storage.Value.FullDataDirectory, "keys", "sessions")), loggers));
        services.AddSingleton<TenantUsers>();
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton(TenantUsers.Migration);
        services.AddSingleton<ConsoleSessions>();
        services.AddSingleton<IConsoleSessions>(sp => sp.GetRequiredService<ConsoleSessions>());

        authentication
            .AddCookie(ConsoleSession.Scheme, o =>
            {
                o.Cookie.Name = ConsoleSession.CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.Cookie.Path = "/";
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.Events.OnValidatePrincipal = c => c.HttpContext.RequestServices.GetRequiredService<ConsoleSessions>().ValidateAsync(c);
                // API callers get problem details, never a redirect; the console redirects to its sign-in page itself.
                o.Events.OnRedirectToLogin = c => Problems.WriteAsync(c.HttpContext, StatusCodes.Status401Unauthorized, ProblemCodes.Unauthenticated,
                    $"the session is missing, expired or revoked, or the {ConsoleSession.CsrfHeader} header is missing");
                o.Events.OnRedirectToAccessDenied = c => Problems.WriteAsync(c.HttpContext, StatusCodes.Status403Forbidden, ProblemCodes.Forbidden,
                    "this session may not do that; an admin key is required");
            })
            .AddPolicyScheme(CallerIdentity.DefaultScheme, "API key or console session", o =>
                o.ForwardDefaultSelector = c =>
                    c.Request.Headers.Authorization.Count == 0 && c.Request.Cookies.ContainsKey(ConsoleSession.CookieName)
                        ? ConsoleSession.Scheme
                        : CallerIdentity.Scheme);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2200, Level = LogLevel.Warning, Message = "Console sign-in refused for user {UserName} of tenant {Tenant} from {Address}: too many failed attempts")]
        public static partial void Throttled(ILogger logger, string tenant, string userName, string address);
    }
}
