namespace Extensions.Modules.Registry.Contracts;

/// <summary>A tenant user as admins see it (never the password hash).</summary>
public sealed record TenantUser(string Id, string Tenant, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt, DateTimeOffset? LastSignInAt);

/// <summary>How a user name and password sign-in ended.</summary>
public enum UserSignInOutcome
{
    SignedIn,

    /// <summary>Unknown tenant or user, or a wrong password: the page does not say which.</summary>
    WrongCredentials,

    /// <summary>Too many failed attempts for this user name from this address, or from this address; wait <see cref="UserSignIn.RetryAfter"/>.</summary>
    Throttled,

    /// <summary>The password was right but the user is disabled.</summary>
    Disabled,
}

/// <summary>The result of <see cref="IConsoleSessions.SignInUserAsync"/>.</summary>
public sealed record UserSignIn(UserSignInOutcome Outcome, CallerIdentity? Caller = null, TimeSpan? RetryAfter = null);
