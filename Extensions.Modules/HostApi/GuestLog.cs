using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.HostApi;

/// <summary>
/// <c>log</c> (<c>cap:log</c>): the guest's lines go to the host's log, tagged with tenant, extension, install and request,
/// under the category <c>Extensions.Guest</c> so operators can route or silence them apart from the platform's own.
/// </summary>
internal sealed partial class GuestLog(ILoggerFactory loggerFactory, GuestLogStore store, TimeProvider time)
{
    public const string Category = "Extensions.Guest";
    private readonly ILogger _logger = loggerFactory.CreateLogger(Category);

    public int Log(InvocationRequest invocation, GuestLogLevel level, string message)
    {
        // The worker already refused ungranted calls; this check is the one that counts, since workers are not trusted.
        if (!invocation.Grants.Contains(Capabilities.Log))
        {
            return AbiCodes.Denied;
        }

        var logLevel = level switch
        {
            GuestLogLevel.Debug => LogLevel.Debug,
            GuestLogLevel.Info => LogLevel.Information,
            GuestLogLevel.Warn => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        // Guest text is untrusted: control characters must not forge extra log lines.
        var safe = string.Create(message.Length, message, static (span, m) =>
        {
            for (var i = 0; i < m.Length; i++)
            {
                span[i] = char.IsControl(m[i]) ? ' ' : m[i];
            }
        });
        Write(_logger, logLevel, invocation.TenantId, invocation.ExtensionId, invocation.InstallId, invocation.RequestId, safe);
        store.Add(new GuestLogEntry(time.GetUtcNow().ToUnixTimeMilliseconds(), invocation.TenantId, invocation.ExtensionId, invocation.InstallId,
            invocation.RequestId, level.ToString().ToLowerInvariant(), safe));
        return 0;
    }

    [LoggerMessage(EventId = 5000, Message = "[{TenantId}/{ExtensionId}] {Message} (install {InstallId}, request {RequestId})")]
    private static partial void Write(ILogger logger, LogLevel level, string tenantId, string extensionId, string installId, string requestId, string message);
}
