using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>The rules for setting and listing an install's secrets, shared by the admin API and the console.</summary>
internal sealed class InstallSecrets(IInstallDirectory installs, SecretStore store, IOptions<HostApiOptions> options) : IInstallSecrets
{
    public async Task<IReadOnlyList<SecretStatus>?> ListAsync(string tenantId, string extensionId, CancellationToken cancellationToken)
    {
        if (await installs.FindAsync(tenantId, extensionId, cancellationToken) is not { } install)
        {
            return null;
        }

        var stored = (await store.ListAsync(install.InstallId, cancellationToken)).ToDictionary(s => s.Name, s => s.UpdatedAt, StringComparer.Ordinal);
        var names = install.SecretNames.Concat(stored.Keys.Where(n => !install.SecretNames.Contains(n, StringComparer.Ordinal)).Order(StringComparer.Ordinal));
        return [.. names.Select(name => new SecretStatus(name, install.SecretNames.Contains(name, StringComparer.Ordinal),
            stored.TryGetValue(name, out var at) ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null))];
    }

    public async Task<DateTimeOffset> SetAsync(string tenantId, string extensionId, string name, ReadOnlyMemory<byte> value, string actor,
        CancellationToken cancellationToken)
    {
        var install = await FindDeclaredAsync(tenantId, extensionId, name, cancellationToken);
        if (value.Length > options.Value.SecretMaxBytes)
        {
            throw TooLarge(options.Value.SecretMaxBytes);
        }

        if (value.Length == 0)
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, StatusCodes.Status400BadRequest, "the secret value is empty; DELETE the secret to remove it");
        }

        var updatedAt = await store.SetAsync(install.InstallId, name, value, cancellationToken);
        await installs.AuditAsync(tenantId, actor, "secret.set", extensionId, $"secret '{name}' of install {install.InstallId} set", cancellationToken);
        return DateTimeOffset.FromUnixTimeMilliseconds(updatedAt);
    }

    /// <summary>The install, when it exists and its manifest declares <paramref name="name"/>; else the refusal.</summary>
    public async Task<InstallInfo> FindDeclaredAsync(string tenantId, string extensionId, string name, CancellationToken cancellationToken)
    {
        var install = await installs.FindAsync(tenantId, extensionId, cancellationToken)
            ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"{extensionId} is not installed for tenant '{tenantId}'");
        if (!install.SecretNames.Contains(name, StringComparer.Ordinal))
        {
            var declared = install.SecretNames.Count == 0 ? "none" : string.Join(", ", install.SecretNames);
            throw new ExtensionsException(ProblemCodes.SecretNotDeclared, StatusCodes.Status422UnprocessableEntity,
                $"{install.ExtensionId}@{install.Version} does not declare a secret named '{name}' (declared: {declared})");
        }

        return install;
    }

    public static ExtensionsException TooLarge(int max) =>
        new(ProblemCodes.PayloadTooLarge, StatusCodes.Status413PayloadTooLarge, $"a secret value may be at most {max} bytes");
}
