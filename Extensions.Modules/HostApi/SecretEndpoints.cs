using System.Text;
using System.Text.Json;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>
/// <c>/api/admin/installs/{tenant}/{extensionId}/secrets</c>: set, list (names and times only) and delete an install's
/// secrets. Only names the installed version's manifest declares are accepted. The value is never echoed, logged or
/// audited, and no error message quotes the request body.
/// </summary>
internal static class SecretEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var secrets = endpoints.MapGroup("/api/admin/installs/{tenant}/{extensionId}/secrets")
            .RequireAuthorization(CallerIdentity.AdminPolicy).WithTags("Admin");
        secrets.MapGet("", ListAsync).WithName("ListSecrets");
        secrets.MapPut("/{name}", SetAsync).WithName("SetSecret");
        secrets.MapDelete("/{name}", DeleteAsync).WithName("DeleteSecret");
    }

    private static async Task<IResult> ListAsync(string tenant, string extensionId, IInstallSecrets secrets, CancellationToken ct)
    {
        var list = await secrets.ListAsync(tenant, extensionId, ct)
            ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"{extensionId} is not installed for tenant '{tenant}'");
        return Results.Ok(list.Select(s => new { name = s.Name, declared = s.Declared, updatedAt = s.UpdatedAt }));
    }

    /// <summary>
    /// The body is the value: <c>application/json</c> bodies must be <c>{"value": "..."}</c> (the string's UTF-8 bytes are
    /// stored); any other content type is taken byte for byte.
    /// </summary>
    private static async Task<IResult> SetAsync(
        string tenant, string extensionId, string name, HttpContext context, InstallSecrets secrets, IOptions<HostApiOptions> options)
    {
        var ct = context.RequestAborted;
        // Known install and declared name before the body is read, so a wrong name costs no upload.
        await secrets.FindDeclaredAsync(tenant, extensionId, name, ct);
        var value = await ReadValueAsync(context.Request, options.Value.SecretMaxBytes, ct);
        var updatedAt = await secrets.SetAsync(tenant, extensionId, name, value, Actor(context), ct);
        return Results.Ok(new { name, updatedAt });
    }

    private static async Task<IResult> DeleteAsync(string tenant, string extensionId, string name, HttpContext context, IInstallDirectory installs, SecretStore store)
    {
        var ct = context.RequestAborted;
        var install = await FindAsync(installs, tenant, extensionId, ct);
        if (!await store.DeleteAsync(install.InstallId, name, ct))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"secret '{name}' is not set for {extensionId} of tenant '{tenant}'");
        }

        await installs.AuditAsync(tenant, Actor(context), "secret.delete", extensionId, $"secret '{name}' of install {install.InstallId} deleted", ct);
        return Results.NoContent();
    }

    private static async Task<InstallInfo> FindAsync(IInstallDirectory installs, string tenant, string extensionId, CancellationToken ct) =>
        await installs.FindAsync(tenant, extensionId, ct)
        ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"{extensionId} is not installed for tenant '{tenant}'");

    private static async Task<byte[]> ReadValueAsync(HttpRequest request, int max, CancellationToken ct)
    {
        // JSON escapes can spell one byte in six; the value itself is held to the limit once decoded.
        var json = request.HasJsonContentType();
        var maxBody = json ? (6L * max) + 64 : max;
        if (request.ContentLength > maxBody)
        {
            throw InstallSecrets.TooLarge(max);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBody)
            {
                throw InstallSecrets.TooLarge(max);
            }

            buffer.Write(chunk, 0, read);
        }

        var body = buffer.ToArray();
        byte[] value;
        if (json)
        {
            value = JsonValue(body) ?? throw new ExtensionsException(ProblemCodes.InvalidRequest, StatusCodes.Status400BadRequest,
                "a JSON body must be an object with a string property 'value'; send any other content type to store the body as it is");
        }
        else
        {
            value = body;
        }

        // The decoded value's size and emptiness are InstallSecrets' rules.
        return value;
    }

    /// <returns>The UTF-8 bytes of <c>value</c>, or <c>null</c> when the body is not <c>{"value": "..."}</c>.</returns>
    private static byte[]? JsonValue(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement is { ValueKind: JsonValueKind.Object } root
                   && root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String
                ? Encoding.UTF8.GetBytes(value.GetString()!)
                : null;
        }
        catch (JsonException)
        {
            // The parser's message may quote the body; say nothing of it.
            return null;
        }
    }

    private static string Actor(HttpContext context) =>
        CallerIdentity.From(context.User)?.KeyId ?? throw new ExtensionsException(ProblemCodes.Unauthenticated, StatusCodes.Status401Unauthorized, "not authenticated");
}
