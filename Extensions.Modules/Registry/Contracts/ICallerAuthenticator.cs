using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// Who is calling, for an endpoint that authenticates by itself instead of through the authentication and authorization
/// middleware (the gateway's front door, where that middleware cost about a tenth of the host's CPU per call).
/// An API key is looked up in the key cache without building a claims principal; without an Authorization header the
/// console session is authenticated by its usual scheme.
/// </summary>
public interface ICallerAuthenticator
{
    /// <summary>The caller, or <c>null</c> when the request is not authenticated.</summary>
    ValueTask<CallerIdentity?> AuthenticateAsync(HttpContext context);

    /// <summary>Answers an unauthenticated request exactly as the middleware would: a 401 problem saying what was wrong.</summary>
    Task ChallengeAsync(HttpContext context);
}
