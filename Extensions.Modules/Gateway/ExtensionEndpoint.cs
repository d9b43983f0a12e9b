using System.Globalization;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Runner.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Gateway;

/// <summary>
/// <c>/api/ext/{extensionId}/{**path}</c>: the caller's tenant → its enabled install → a declared endpoint → the worker pool
/// → the guest's status, allowed headers and body. Every failure is a problem response with a stable code.
/// </summary>
internal static partial class ExtensionEndpoint
{
    public const string Route = "/api/ext/{extensionId}/{**path}";
    private const string Prefix = "/api/ext/";
    private const string LogCategory = "Extensions.Gateway";

    /// <summary>Request headers an extension may see. Credentials, cookies and hop-by-hop headers never reach a guest.</summary>
    private static readonly HashSet<string> RequestHeaderAllowlist = new(StringComparer.OrdinalIgnoreCase)
    {
        "accept", "accept-language", "content-type", "content-length", "if-match", "if-none-match", "if-modified-since", "user-agent",
    };

    /// <summary>Response headers an extension may set (besides its own <c>x-</c> headers).</summary>
    private static readonly HashSet<string> ResponseHeaderAllowlist = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-type", "cache-control", "etag", "last-modified", "content-language", "vary", "location",
    };

    public static async Task HandleAsync(
        HttpContext context, string extensionId, IInstallResolver resolver, IExtensionRunner runner, IOptions<GatewayOptions> options,
        InvocationRecorder recorder, TimeProvider time, ILoggerFactory loggers)
    {
        var started = time.GetTimestamp();
        var requestId = Problems.RequestId(context);
        context.Response.Headers[Problems.RequestIdHeader] = requestId;
        var caller = CallerIdentity.From(context.User);
        if (caller is null)
        {
            await Problems.WriteAsync(context, 401, ProblemCodes.Unauthenticated, "send 'Authorization: Bearer <api key>'");
            return;
        }

        // Route on what the client sent, not on Kestrel's normalised path: an encoded separator or dot segment
        // could otherwise make one request address another extension or route.
        var (rawPath, query) = SplitTarget(context);
        var segments = EndpointMatcher.Segments(rawPath);
        if (segments is null || segments.Count == 0 || segments[0] != extensionId)
        {
            await Problems.WriteAsync(context, 400, ProblemCodes.InvalidRequest, "the path contains an encoded separator, a dot segment or an invalid escape");
            return;
        }

        segments.RemoveAt(0);
        var resolved = await resolver.ResolveAsync(caller.TenantId, extensionId, context.RequestAborted);
        if (resolved.Install is not { } install)
        {
            var (status, code, detail) = resolved.Failure switch
            {
                ResolveFailure.Disabled => (403, ProblemCodes.ExtensionDisabled, $"extension '{extensionId}' is disabled for this tenant"),
                ResolveFailure.Failed => (503, ProblemCodes.ExtensionFailed, $"extension '{extensionId}' failed verification and is not served; an operator must look at it"),
                _ => (404, ProblemCodes.ExtensionNotInstalled, $"extension '{extensionId}' is not installed for this tenant"),
            };
            await Problems.WriteAsync(context, status, code, detail);
            return;
        }

        var match = EndpointMatcher.Match(install.Manifest.Endpoints, context.Request.Method, segments);
        if (match is not { } m)
        {
            await Problems.WriteAsync(context, 404, ProblemCodes.EndpointNotFound,
                $"{extensionId} declares no endpoint {context.Request.Method} /{string.Join('/', segments)}");
            return;
        }

        var body = await ReadBodyAsync(context, options.Value.MaxRequestBodyBytes);
        if (body is null)
        {
            await Problems.WriteAsync(context, 413, ProblemCodes.PayloadTooLarge, $"the request body is larger than {options.Value.MaxRequestBodyBytes} bytes");
            return;
        }

        var request = new InvocationRequest
        {
            TenantId = install.TenantId,
            ExtensionId = install.ExtensionId,
            InstallId = install.InstallId,
            Version = install.Version,
            RequestId = requestId,
            ModuleHash = install.ModuleHash,
            ModulePath = install.ModulePath,
            Limits = EndpointMatcher.LimitsFor(runner, install.Manifest, m.Endpoint),
            Request = new GuestHttpRequest(
                context.Request.Method == "HEAD" ? "GET" : context.Request.Method,
                "/" + string.Join('/', segments),
                query,
                [.. context.Request.Headers.Where(h => RequestHeaderAllowlist.Contains(h.Key) || IsExtensionHeader(h.Key))
                    .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value.ToString()))],
                m.Params,
                body),
            Context =
            [
                new("tenant", install.TenantId),
                new("extension", install.ExtensionId),
                new("install", install.InstallId),
                new("version", install.Version),
                new("request_id", requestId),
                new("user.id", caller.KeyId),
                new("user.name", caller.Name),
                new("user.kind", caller.Kind),
            ],
            Config = install.Config,
            Grants = install.Grants,
            SecretNames = install.Manifest.Secrets,
            EgressHosts = [.. install.EgressHosts.Order(StringComparer.Ordinal)],  // what the admin consented to, not what the manifest asks
        };

        var result = await runner.InvokeAsync(request, context.RequestAborted);
        if (result.Outcome != InvocationOutcome.Ok)
        {
            // The guest's own words stay in the log, never in the response.
            Log.InvocationFailed(loggers.CreateLogger(LogCategory), install.TenantId, install.ExtensionId, requestId, result.Outcome, result.Diagnostic ?? "");
        }

        var (sentStatus, sentCode) = await WriteResultAsync(context, result);
        recorder.Record(new InvocationRecord(time.GetUtcNow().ToUnixTimeMilliseconds(), install.TenantId, install.ExtensionId, install.InstallId,
            install.Version, requestId, context.Request.Method, m.Endpoint.Path, sentStatus, sentCode, time.GetElapsedTime(started).TotalMilliseconds,
            result.Usage.Fuel, result.Usage.PeakMemoryBytes, result.Usage.HostCalls));
    }

    /// <returns>The status and code the caller got (<c>ok</c> when the guest's own response went out).</returns>
    private static async Task<(int Status, string Code)> WriteResultAsync(HttpContext context, InvocationResult result)
    {
        var headers = context.Response.Headers;
        headers["x-ext-fuel"] = result.Usage.Fuel.ToString(CultureInfo.InvariantCulture);
        headers["x-ext-duration-ms"] = result.Usage.WallMs.ToString("0.###", CultureInfo.InvariantCulture);
        headers["x-ext-memory-bytes"] = result.Usage.PeakMemoryBytes.ToString(CultureInfo.InvariantCulture);

        if (result.Outcome != InvocationOutcome.Ok)
        {
            var (status, code, detail) = result.Outcome switch
            {
                InvocationOutcome.FuelExhausted => (502, ProblemCodes.FuelExhausted, "the extension used up its fuel budget for this request"),
                InvocationOutcome.MemoryExceeded => (502, ProblemCodes.MemoryExceeded, "the extension exceeded its memory limit"),
                InvocationOutcome.Timeout => (504, ProblemCodes.Timeout, "the extension did not finish before its deadline"),
                InvocationOutcome.Trap => (502, ProblemCodes.ExtensionTrap, "the extension trapped"),
                InvocationOutcome.ExtensionError => (502, ProblemCodes.ExtensionError, "the extension reported an error"),
                InvocationOutcome.ResponseTooLarge => (502, ProblemCodes.ResponseTooLarge, "the extension's response exceeded the size limit"),
                InvocationOutcome.RunnerCrashed => (502, ProblemCodes.RunnerCrashed, "the worker running the extension crashed; retrying may succeed"),
                InvocationOutcome.Unavailable => (503, ProblemCodes.Overloaded, "no worker is available; retry shortly"),
                _ => (502, ProblemCodes.BadExtensionResponse, "the extension's module could not be run"),
            };
            if (status == 503)
            {
                headers.RetryAfter = "1";
            }

            await Problems.WriteAsync(context, status, code, detail);
            return (status, code);
        }

        context.Response.StatusCode = result.Status;
        foreach (var (name, value) in result.Headers)
        {
            if (ResponseHeaderAllowlist.Contains(name) || (IsExtensionHeader(name) && !name.StartsWith("x-ext-", StringComparison.OrdinalIgnoreCase)))
            {
                headers.Append(name, value);
            }
        }

        if (context.Request.Method != "HEAD" && result.Body.Length > 0)
        {
            context.Response.ContentLength = result.Body.Length;
            await context.Response.Body.WriteAsync(result.Body, context.RequestAborted);
        }

        return (result.Status, "ok");
    }

    private static bool IsExtensionHeader(string name) =>
        name.StartsWith("x-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("x-forwarded-", StringComparison.OrdinalIgnoreCase)
        && !name.Equals(Problems.RequestIdHeader, StringComparison.OrdinalIgnoreCase);

    /// <summary>The still-encoded path after <c>/api/ext/</c> (starting with the extension id), and the raw query without '?'.</summary>
    private static (string Path, string Query) SplitTarget(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var q = target.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? target : target[..q];
        var query = q < 0 ? "" : target[(q + 1)..];
        return (path.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? path[Prefix.Length..] : "", query);
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int max)
    {
        if (context.Request.ContentLength > max)
        {
            return null;
        }

        if (context.Request.ContentLength is 0 || (context.Request.ContentLength is null && !context.Request.Headers.ContainsKey("Transfer-Encoding")))
        {
            return [];
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Invocation of {ExtensionId} for tenant {TenantId} (request {RequestId}) ended {Outcome}: {Diagnostic}")]
        public static partial void InvocationFailed(ILogger logger, string tenantId, string extensionId, string requestId, InvocationOutcome outcome, string diagnostic);
    }
}
