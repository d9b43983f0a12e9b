using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Registry.Auth;

/// <summary>
/// The same decisions as the <see cref="CallerIdentity.DefaultScheme"/> policy scheme (a bearer key when an Authorization
/// header is sent, else the console session), with the key checked straight against <see cref="ApiKeys"/>' cache.
/// Failures are answered by the schemes' own challenges, so a caller sees the same 401 either way.
/// </summary>
internal sealed class CallerAuthenticator(ApiKeys keys) : ICallerAuthenticator
{
    private const string Bearer = "Bearer ";

    public async ValueTask<CallerIdentity?> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        if (header.Count == 0)
        {
            var session = await context.AuthenticateAsync(CallerIdentity.DefaultScheme);
            if (session.Principal is not { } user)
            {
                return null;
            }

            context.User = user;
            return CallerIdentity.From(user);
        }

        var value = header.ToString();
        if (header.Count != 1 || !value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var presented = value.AsSpan(Bearer.Length).Trim();
        return keys.TryCached(presented, out var known) ? known : await keys.AuthenticateAsync(presented.ToString(), context.RequestAborted);
    }

    public Task ChallengeAsync(HttpContext context) => context.ChallengeAsync(CallerIdentity.DefaultScheme);
}
