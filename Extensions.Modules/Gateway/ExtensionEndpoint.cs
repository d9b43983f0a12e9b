using System.Diagnostics;
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
/// <c>/api/ext/{extensionId}/{**path}</c>: the caller's tenant → its enabled install → a declared endpoint → rate,
/// concurrency, body and idempotency policies → the worker pool → the guest's status, allowed headers and body. Every
/// refusal is a problem response with a stable code, and nothing is dispatched until every policy has passed.
/// </summary>
internal sealed partial class ExtensionEndpoint(
    ICallerAuthenticator callers, IInstallResolver resolver, IExtensionRunner runner, IOptions<GatewayOptions> options, InvocationRecorder recorder,
    GatewayLimiter limiter, IdempotencyStore idempotency, CorsPolicy cors, GatewayTelemetry telemetry, TimeProvider time,
    ILogger<ExtensionEndpoint> logger)
{
    public const string Route = "/api/ext/{extensionId}/{**path}";
    private const string Prefix = "/api/ext/";

    /// <summary>How a call was answered, for the span, the metrics and the invocation record.</summary>
    private readonly record struct Answer(int Status, string Code, string TenantId = "", string ExtensionId = "", string Endpoint = "");

    public async Task HandleAsync(HttpContext context, string extensionId)
    {
        var started = time.GetTimestamp();
        Prepare(context);
        using var activity = GatewayTelemetry.StartCall(context.Request.Method, Route);
        activity?.SetTag("extensions.request_id", Problems.RequestId(context));
        var answer = await DispatchAsync(context, extensionId, activity, started);
        Finish(activity, answer);
        telemetry.Answered(answer.TenantId, answer.ExtensionId, answer.Endpoint, answer.Status, answer.Code, time.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>
    /// OPTIONS: a CORS preflight (no key: browsers send none) is answered from the allowlists; any other OPTIONS needs a
    /// key and lists the methods the caller's install declares for the path in <c>Allow</c>.
    /// </summary>
    public async Task HandleOptionsAsync(HttpContext context, string extensionId)
    {
        Prepare(context);
        if (Segments(context, extensionId) is not { } segments)
        {
            await BadPathAsync(context);
            return;
        }

        if (CorsPolicy.CrossOrigin(context) is { } origin && context.Request.Headers.ContainsKey("Access-Control-Request-Method"))
        {
            await cors.PreflightAsync(context, extensionId, origin);
            return;
        }

        if (await callers.AuthenticateAsync(context) is not { } caller)
        {
            await callers.ChallengeAsync(context);
            return;
        }

        var resolved = await resolver.ResolveAsync(caller.TenantId, extensionId, context.RequestAborted);
        if (resolved.Install is not { } install)
        {
            await ResolveFailedAsync(context, extensionId, resolved.Failure);
            return;
        }

        var methods = EndpointMatcher.MethodsFor(install.Manifest.Endpoints, segments);
        if (methods.Count == 0)
        {
            await Problems.WriteAsync(context, 404, ProblemCodes.EndpointNotFound, $"{extensionId} declares no endpoint /{string.Join('/', segments)}");
            return;
        }

        context.Response.Headers.Allow = string.Join(", ", methods.Append("OPTIONS"));
        context.Response.StatusCode = 204;
    }

    private static void Prepare(HttpContext context)
    {
        context.Response.Headers[Problems.RequestIdHeader] = Problems.RequestId(context);
        // The guest chooses the content type; the browser must not second-guess it into something executable.
        context.Response.Headers.XContentTypeOptions = "nosniff";
    }

    private static void Finish(Activity? activity, Answer answer)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("http.response.status_code", answer.Status).SetTag("extensions.code", answer.Code);
        if (answer.Status >= 500)
        {
            activity.SetStatus(ActivityStatusCode.Error, answer.Code);
        }
    }

    private async Task<Answer> DispatchAsync(HttpContext context, string extensionId, Activity? activity, long started)
    {
        var o = options.Value;
        // The front door authenticates its callers itself (see GatewayModule.UseCallerAuthentication).
        if (await callers.AuthenticateAsync(context) is not { } caller)
        {
            await callers.ChallengeAsync(context);
            return new(401, ProblemCodes.Unauthenticated);
        }

        activity?.SetTag("extensions.tenant", caller.TenantId);
        if (limiter.TryTenant(caller.TenantId) is { } tenantWait)
        {
            return await LimitedAsync(context, caller.TenantId, tenantWait, ProblemCodes.RateLimited,
                $"tenant '{caller.TenantId}' is over its rate of {o.TenantRequestsPerSecond} requests per second");
        }

        if (Segments(context, extensionId) is not { } segments)
        {
            await BadPathAsync(context);
            return new(400, ProblemCodes.InvalidRequest, caller.TenantId);
        }

        var resolved = await resolver.ResolveAsync(caller.TenantId, extensionId, context.RequestAborted);
        if (resolved.Install is not { } install)
        {
            return (await ResolveFailedAsync(context, extensionId, resolved.Failure)) with { TenantId = caller.TenantId };
        }

        activity?.SetTag("extensions.extension", install.ExtensionId).SetTag("extensions.install", install.InstallId).SetTag("extensions.version", install.Version);
        var answer = new Answer(0, "", install.TenantId, install.ExtensionId);
        if (CorsPolicy.CrossOrigin(context) is { } origin)
        {
            if (!(await cors.OriginsAsync(install.TenantId, install.ExtensionId, context.RequestAborted)).Contains(origin, StringComparer.Ordinal))
            {
                // Refused before anything runs: a page on another origin cannot make the guest act on its behalf.
                return await FailAsync(context, 403, ProblemCodes.CorsOriginDenied, $"origin '{origin}' may not call {extensionId} for this tenant", answer);
            }

            CorsPolicy.Allow(context.Response, origin);
        }

        var match = EndpointMatcher.Match(install.Manifest.Endpoints, context.Request.Method, segments);
        if (match is not { } m)
        {
            return await FailAsync(context, 404, ProblemCodes.EndpointNotFound,
                $"{extensionId} declares no endpoint {context.Request.Method} /{string.Join('/', segments)}", answer);
        }

        answer = answer with { Endpoint = m.Endpoint.Path };
        activity?.SetTag("extensions.endpoint", m.Endpoint.Path);
        if (limiter.TryInstall(install.TenantId, install.InstallId) is { } installWait)
        {
            return await LimitedAsync(context, install.TenantId, installWait, ProblemCodes.RateLimited,
                $"{extensionId} is over its rate of {o.InstallRequestsPerSecond} requests per second for this tenant", answer);
        }

        if (m.Endpoint.Limits?.RequestsPerSecond is { } endpointRate
            && limiter.TryEndpoint(install.InstallId, $"{m.Endpoint.Method} {m.Endpoint.Path}", endpointRate) is { } endpointWait)
        {
            return await LimitedAsync(context, install.TenantId, endpointWait, ProblemCodes.RateLimited,
                $"{m.Endpoint.Method} {m.Endpoint.Path} of {extensionId} is over its own rate of {endpointRate} requests per second", answer);
        }

        using var slot = limiter.TryEnter(install.TenantId);
        if (slot is null)
        {
            return await LimitedAsync(context, install.TenantId, 1, ProblemCodes.ConcurrencyLimited,
                $"tenant '{install.TenantId}' already has {o.MaxConcurrentPerTenant} calls in flight", answer);
        }

        byte[]? body = [];
        // Most calls have no body: they skip the deadline's timer.
        if (HasBody(context.Request))
        {
            using var bodyDeadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            bodyDeadline.CancelAfter(o.BodyReadTimeoutMs);
            try
            {
                body = await ReadBodyAsync(context, o.MaxRequestBodyBytes, bodyDeadline.Token);
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                context.Response.Headers.Connection = "close";
                return await FailAsync(context, 408, ProblemCodes.RequestTimeout, $"the request body did not arrive within {o.BodyReadTimeoutMs} ms", answer);
            }
        }

        if (body is null)
        {
            context.Response.Headers.Connection = "close";
            return await FailAsync(context, 413, ProblemCodes.PayloadTooLarge, $"the request body is larger than {o.MaxRequestBodyBytes} bytes", answer);
        }

        var query = SplitTarget(context).Query;
        var guestPath = "/" + string.Join('/', segments);
        string? idempotencyKey = null;
        if (context.Request.Method is not ("GET" or "HEAD") && context.Request.Headers.TryGetValue(IdempotencyStore.Header, out var keyValues))
        {
            idempotencyKey = keyValues.ToString();
            if (keyValues.Count != 1 || !IdempotencyStore.IsValidKey(idempotencyKey))
            {
                return await FailAsync(context, 400, ProblemCodes.InvalidRequest, "Idempotency-Key must be one value of 1 to 255 visible ASCII characters", answer);
            }

            var hash = IdempotencyStore.HashRequest(context.Request.Method, guestPath, query, body);
            var (state, stored) = await idempotency.BeginAsync(install.TenantId, install.InstallId, idempotencyKey, hash, context.RequestAborted);
            switch (state)
            {
                case IdempotencyState.Mismatch:
                    return await FailAsync(context, 422, ProblemCodes.IdempotencyKeyReused,
                        "this Idempotency-Key was already used for a different request (method, path, query or body); use a new key", answer);
                case IdempotencyState.InProgress:
                    return await FailAsync(context, 409, ProblemCodes.IdempotencyInProgress,
                        "a request with this Idempotency-Key is still running; retry when it has finished", answer);
                case IdempotencyState.Replay:
                    await ReplayAsync(context, stored!);
                    return answer with { Status = stored!.Status, Code = "replayed" };
            }
        }

        var request = new InvocationRequest
        {
            TenantId = install.TenantId,
            ExtensionId = install.ExtensionId,
            InstallId = install.InstallId,
            Version = install.Version,
            RequestId = Problems.RequestId(context),
            ModuleHash = install.ModuleHash,
            ModulePath = install.ModulePath,
            Limits = EndpointMatcher.LimitsFor(runner, install.Manifest, m.Endpoint),
            Request = new GuestHttpRequest(
                context.Request.Method == "HEAD" ? "GET" : context.Request.Method,
                guestPath,
                query,
                [.. context.Request.Headers.Where(h => HeaderPolicy.MayReachGuest(h.Key))
                    .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value.ToString()))],
                m.Params,
                body),
            Context =
            [
                new("tenant", install.TenantId),
                new("extension", install.ExtensionId),
                new("install", install.InstallId),
                new("version", install.Version),
                new("request_id", Problems.RequestId(context)),
                new("user.id", caller.KeyId),
                new("user.name", caller.Name),
                new("user.kind", caller.Kind),
            ],
            Config = install.Config,
            Grants = install.Grants,
            SecretNames = install.Manifest.Secrets,
            EgressHosts = [.. install.EgressHosts.Order(StringComparer.Ordinal)],  // what the admin consented to, not what the manifest asks
        };

        InvocationResult result;
        try
        {
            result = await runner.InvokeAsync(request, context.RequestAborted);
        }
        catch when (idempotencyKey is not null)
        {
            await idempotency.ReleaseAsync(install.TenantId, install.InstallId, idempotencyKey);
            throw;
        }

        if (result.Outcome != InvocationOutcome.Ok)
        {
            // The guest's own words stay in the log, never in the response.
            Log.InvocationFailed(logger, install.TenantId, install.ExtensionId, request.RequestId, result.Outcome, result.Diagnostic ?? "");
        }

        telemetry.Used(install.TenantId, install.ExtensionId, result.Usage.Fuel, result.Usage.PeakMemoryBytes);
        activity?.SetTag("extensions.fuel", result.Usage.Fuel).SetTag("extensions.outcome", result.Outcome.ToString());
        var guestAnswer = GuestAnswer(result);
        (int Status, string Code) sent;
        try
        {
            sent = await WriteResultAsync(context, result, guestAnswer);
        }
        finally
        {
            if (idempotencyKey is not null)
            {
                // Only the guest's own answers are kept, even if the caller left before reading it (the guest did act);
                // a failure before it answered gives the key back for a retry.
                await (guestAnswer is not null
                    ? idempotency.CompleteAsync(install.TenantId, install.InstallId, idempotencyKey, guestAnswer)
                    : idempotency.ReleaseAsync(install.TenantId, install.InstallId, idempotencyKey));
            }
        }

        recorder.Add(new InvocationRecord(time.GetUtcNow().ToUnixTimeMilliseconds(), install.TenantId, install.ExtensionId, install.InstallId,
            install.Version, request.RequestId, context.Request.Method, m.Endpoint.Path, sent.Status, sent.Code, time.GetElapsedTime(started).TotalMilliseconds,
            result.Usage.Fuel, result.Usage.PeakMemoryBytes, result.Usage.HostCalls));
        return answer with { Status = sent.Status, Code = sent.Code };
    }

    private static async Task<Answer> FailAsync(HttpContext context, int status, string code, string detail, Answer answer = default)
    {
        await Problems.WriteAsync(context, status, code, detail);
        return answer with { Status = status, Code = code };
    }

    private async Task<Answer> LimitedAsync(HttpContext context, string tenantId, int retryAfterSeconds, string code, string detail, Answer answer = default)
    {
        telemetry.Limited(tenantId, code);
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await FailAsync(context, 429, code, detail, answer with { TenantId = tenantId });
    }

    private static Task BadPathAsync(HttpContext context) =>
        Problems.WriteAsync(context, 400, ProblemCodes.InvalidRequest, "the path contains an encoded separator, a dot segment or an invalid escape");

    private static async Task<Answer> ResolveFailedAsync(HttpContext context, string extensionId, ResolveFailure failure)
    {
        var (status, code, detail) = failure switch
        {
            ResolveFailure.Disabled => (403, ProblemCodes.ExtensionDisabled, $"extension '{extensionId}' is disabled for this tenant"),
            ResolveFailure.Failed => (503, ProblemCodes.ExtensionFailed, $"extension '{extensionId}' failed verification and is not served; an operator must look at it"),
            _ => (404, ProblemCodes.ExtensionNotInstalled, $"extension '{extensionId}' is not installed for this tenant"),
        };
        return await FailAsync(context, status, code, detail);
    }

    /// <summary>The guest's own answer as it may leave the gateway (allowed headers only); null when the guest did not
    /// give a usable one.</summary>
    private static StoredResponse? GuestAnswer(InvocationResult result) =>
        result.Outcome == InvocationOutcome.Ok && result.Status is >= 200 and <= 599
            ? new StoredResponse(result.Status,
                [.. result.Headers.Where(h => HeaderPolicy.MayLeaveGuest(h.Key, h.Value)).Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value))],
                result.Body)
            : null;

    /// <returns>The status and code the caller got (<c>ok</c> when the guest's own response went out).</returns>
    private static async Task<(int Status, string Code)> WriteResultAsync(HttpContext context, InvocationResult result, StoredResponse? answer)
    {
        var headers = context.Response.Headers;
        headers["x-ext-fuel"] = result.Usage.Fuel.ToString(CultureInfo.InvariantCulture);
        headers["x-ext-duration-ms"] = result.Usage.WallMs.ToString("0.###", CultureInfo.InvariantCulture);
        headers["x-ext-memory-bytes"] = result.Usage.PeakMemoryBytes.ToString(CultureInfo.InvariantCulture);

        if (result.Outcome == InvocationOutcome.Ok && answer is null)
        {
            // 1xx would leave the client waiting for a final response; anything else is not HTTP.
            await Problems.WriteAsync(context, 502, ProblemCodes.BadExtensionResponse, $"the extension answered with status {result.Status}, which is not a final HTTP status");
            return (502, ProblemCodes.BadExtensionResponse);
        }

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

        context.Response.StatusCode = answer!.Status;
        foreach (var (name, value) in answer.Headers)
        {
            headers.Append(name, value);
        }

        await WriteBodyAsync(context, answer.Status, answer.Body);
        return (answer.Status, "ok");
    }

    private static async Task ReplayAsync(HttpContext context, StoredResponse stored)
    {
        context.Response.StatusCode = stored.Status;
        foreach (var (name, value) in stored.Headers)
        {
            context.Response.Headers.Append(name, value);
        }

        context.Response.Headers[IdempotencyStore.ReplayedHeader] = "true";
        await WriteBodyAsync(context, stored.Status, stored.Body);
    }

    private static async Task WriteBodyAsync(HttpContext context, int status, byte[] body)
    {
        // 204 and 304 have no body by definition; HEAD gets the length a GET would have, and no body.
        if (status is 204 or 304)
        {
            return;
        }

        context.Response.ContentLength = body.Length;
        if (context.Request.Method != "HEAD" && body.Length > 0)
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>
    /// The decoded path segments after the extension id, routed on what the client sent rather than on Kestrel's
    /// normalised path: an encoded separator or dot segment could otherwise make one request address another extension
    /// or route. Null when the path is unsafe or names another extension.
    /// </summary>
    private static List<string>? Segments(HttpContext context, string extensionId)
    {
        var segments = EndpointMatcher.Segments(SplitTarget(context).Path);
        if (segments is null || segments.Count == 0 || segments[0] != extensionId)
        {
            return null;
        }

        segments.RemoveAt(0);
        return segments;
    }

    /// <summary>The still-encoded path after <c>/api/ext/</c> (starting with the extension id), and the raw query without '?'.</summary>
    private static (string Path, string Query) SplitTarget(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var q = target.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? target : target[..q];
        var query = q < 0 ? "" : target[(q + 1)..];
        return (path.StartsWith(Prefix, StringComparison.Ordinal) ? path[Prefix.Length..] : "", query);
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.ContainsKey("Transfer-Encoding"));

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int max, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > max)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
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
