using System.Security.Cryptography;
using System.Text;
using Dapper;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.HostApi;

/// <summary>
/// Secret values per install, encrypted with AES-256-GCM under the <see cref="HostKey"/>. The install id and secret name
/// are the associated data, so a row copied to another install or name does not decrypt. Values leave this class only as
/// the reply to a granted <c>secret_get</c>; names and times are all the admin API shows, and nothing here logs a value.
/// </summary>
internal sealed partial class SecretStore(IDatabase database, HostKey hostKey, TimeProvider time, ILogger<SecretStore> logger)
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    /// <summary><c>secret_get</c>: the value, <see cref="AbiCodes.Absent"/> when unset, <see cref="AbiCodes.Invalid"/> for a name the manifest does not declare.</summary>
    public async ValueTask<HostCallReply> GetAsync(InvocationRequest invocation, string name, CancellationToken ct)
    {
        if (!invocation.SecretNames.Contains(name, StringComparer.Ordinal))
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SecretRow>(new CommandDefinition("""
            SELECT nonce AS Nonce, ciphertext AS Ciphertext, tag AS Tag FROM hostapi_secrets WHERE install_id = @installId AND name = @name
            """, new { installId = invocation.InstallId, name }, cancellationToken: ct));
        if (row is null)
        {
            return HostCallReply.Error(AbiCodes.Absent);
        }

        var value = new byte[row.Ciphertext.Length];
        try
        {
            using var aes = new AesGcm(hostKey.Value, TagBytes);
            aes.Decrypt(row.Nonce, row.Ciphertext, row.Tag, value, AssociatedData(invocation.InstallId, name));
        }
        catch (CryptographicException)
        {
            // Wrong key, tampered row, or a row that belongs to another install: all the same to the guest.
            Log.DecryptFailed(logger, invocation.TenantId, invocation.ExtensionId, invocation.InstallId, name);
            return HostCallReply.Error(AbiCodes.Internal);
        }

        return HostCallReply.Ok(0, value);
    }

    /// <returns>When the value was stored (unix ms).</returns>
    public async Task<long> SetAsync(string installId, string name, ReadOnlyMemory<byte> value, CancellationToken ct)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var ciphertext = new byte[value.Length];
        var tag = new byte[TagBytes];
        using (var aes = new AesGcm(hostKey.Value, TagBytes))
        {
            aes.Encrypt(nonce, value.Span, ciphertext, tag, AssociatedData(installId, name));
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO hostapi_secrets (install_id, name, nonce, ciphertext, tag, updated_at) VALUES (@installId, @name, @nonce, @ciphertext, @tag, @now)
            ON CONFLICT (install_id, name) DO UPDATE SET
                nonce = excluded.nonce, ciphertext = excluded.ciphertext, tag = excluded.tag, updated_at = excluded.updated_at
            """, new { installId, name, nonce, ciphertext, tag, now }, cancellationToken: ct));
        return now;
    }

    public async Task<bool> DeleteAsync(string installId, string name, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM hostapi_secrets WHERE install_id = @installId AND name = @name", new { installId, name }, cancellationToken: ct)) > 0;
    }

    /// <summary>Names and update times of the install's stored secrets, never values.</summary>
    public async Task<IReadOnlyList<(string Name, long UpdatedAt)>> ListAsync(string installId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<(string Name, long UpdatedAt)>(new CommandDefinition(
            "SELECT name AS Name, updated_at AS UpdatedAt FROM hostapi_secrets WHERE install_id = @installId ORDER BY name",
            new { installId }, cancellationToken: ct))];
    }

    /// <summary>Every secret of one install (on uninstall).</summary>
    public async Task RemoveInstallAsync(string installId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM hostapi_secrets WHERE install_id = @installId", new { installId }, cancellationToken: ct));
    }

    /// <summary>Binds a ciphertext to its install and name. Length-prefixed so no two (install, name) pairs encode alike.</summary>
    private static byte[] AssociatedData(string installId, string name) =>
        Encoding.UTF8.GetBytes($"extensions.secret.v1:{installId.Length}:{installId}:{name}");

    private sealed record SecretRow(byte[] Nonce, byte[] Ciphertext, byte[] Tag);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5110, Level = LogLevel.Warning, Message = "Secret '{Name}' of install {InstallId} ({TenantId}/{ExtensionId}) does not decrypt under the host key: the key changed or the row was altered")]
        public static partial void DecryptFailed(ILogger logger, string tenantId, string extensionId, string installId, string name);
    }
}
