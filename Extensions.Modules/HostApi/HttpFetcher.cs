using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Extensions.Modules.Runner.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>
/// <c>http_fetch</c> (<c>cap:http.fetch</c>): one HTTP request for a guest, to a host its admin consented to and only at a
/// public address (<see cref="EgressPolicy"/>). This is the platform's only outbound HTTP stack for guests: no proxy, no
/// cookies, no automatic redirects (each hop is checked again here), size caps both ways, a per-call timeout inside the
/// invocation's deadline and a per-invocation call cap. Envelope format: <c>docs/abi.md</c>, section "http_fetch".
/// </summary>
internal sealed partial class HttpFetcher : IDisposable
{
    private const int MaxRedirects = 5;

    /// <summary>Headers a guest may not set: they belong to the connection, or would let it pose as another host or proxy.</summary>
    private static readonly HashSet<string> DroppedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "expect",
    };

    private static readonly HashSet<string> Methods = new(StringComparer.Ordinal) { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };

    private readonly HostApiOptions _options;
    private readonly EgressPolicy _policy;
    private readonly ILogger<HttpFetcher> _logger;
    private readonly HttpMessageInvoker _client;
    private readonly ConditionalWeakTable<InvocationRequest, StrongBox<int>> _calls = new();

    public HttpFetcher(IOptions<HostApiOptions> options, EgressPolicy policy, ILogger<HttpFetcher> logger, EgressTransport? transport = null)
    {
        _options = options.Value;
        _policy = policy;
        _logger = logger;
        // A replaced transport (invoke's stub map) sits where the network would: every check of this class still runs.
        _client = transport is not null ? new HttpMessageInvoker(transport.Handler, disposeHandler: false) : new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            MaxResponseHeadersLength = 64, // KiB
            ConnectTimeout = TimeSpan.FromMilliseconds(_options.HttpFetchTimeoutMs),
            ConnectCallback = ConnectAsync,
        });
    }

    public async ValueTask<HostCallReply> FetchAsync(InvocationRequest invocation, byte[] envelope, CancellationToken ct)
    {
        var calls = _calls.GetOrCreateValue(invocation);
        if (Interlocked.Increment(ref calls.Value) > _options.HttpFetchMaxCallsPerInvocation || envelope.Length > _options.HttpFetchMaxRequestBytes)
        {
            return HostCallReply.Error(AbiCodes.Limit);
        }

        if (FetchEnvelope.ParseRequest(envelope) is not { } request
            || !Methods.Contains(request.Method)
            || !Uri.TryCreate(request.Url, UriKind.Absolute, out var uri)
            || !IsHttp(uri) || uri.UserInfo.Length > 0
            || !request.Headers.All(h => FetchEnvelope.IsToken(h.Key) && FetchEnvelope.IsHeaderValue(h.Value)))
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        var firstHost = EgressPolicy.HostOf(uri);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.HttpFetchTimeoutMs);
        try
        {
            return await SendAsync(invocation, request, uri, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return HostCallReply.Error(AbiCodes.Timeout);
        }
        catch (Exception ex) when (Find<EgressDeniedException>(ex) is { } denied)
        {
            Log.AddressRefused(_logger, invocation.TenantId, invocation.ExtensionId, denied.Host, denied.Address, denied.Reason);
            return HostCallReply.Error(AbiCodes.EgressDenied);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException)
        {
            // Not logged with the URL: its query may carry the guest's credentials.
            Log.FetchFailed(_logger, invocation.TenantId, invocation.ExtensionId, firstHost, ex);
            return HostCallReply.Error(AbiCodes.Internal);
        }
    }

    private async Task<HostCallReply> SendAsync(InvocationRequest invocation, FetchRequest request, Uri uri, CancellationToken ct)
    {
        var method = request.Method;
        var body = request.Body;
        var headers = request.Headers;
        for (var hop = 0; ; hop++)
        {
            var host = EgressPolicy.HostOf(uri);
            if (!EgressPolicy.HostAllowed(host, invocation.EgressHosts))
            {
                Log.HostRefused(_logger, invocation.TenantId, invocation.ExtensionId, host, hop);
                return HostCallReply.Error(AbiCodes.EgressDenied);
            }

            // An address literal is checked before anything is sent (a name is checked once resolved, in ConnectAsync),
            // so the refusal is the same whatever transport carries the request.
            if (IPAddress.TryParse(host.Trim('[', ']'), out var literal) && _policy.Refusal(literal) is { } reason)
            {
                Log.AddressRefused(_logger, invocation.TenantId, invocation.ExtensionId, host, literal, reason);
                return HostCallReply.Error(AbiCodes.EgressDenied);
            }

            using var message = Build(method, uri, headers, body);
            using var response = await _client.SendAsync(message, ct);
            var status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                if (hop == MaxRedirects)
                {
                    return HostCallReply.Error(AbiCodes.Limit);
                }

                var next = new Uri(uri, location);
                if (!IsHttp(next) || next.UserInfo.Length > 0)
                {
                    Log.HostRefused(_logger, invocation.TenantId, invocation.ExtensionId, next.Scheme + ":", hop + 1);
                    return HostCallReply.Error(AbiCodes.EgressDenied);
                }

                // As browsers do: 303, and 301/302 after a POST, become a GET without a body.
                if (status == 303 || (status is 301 or 302 && method == "POST"))
                {
                    method = method == "HEAD" ? "HEAD" : "GET";
                    body = [];
                    headers = [.. headers.Where(h => !h.Key.StartsWith("content-", StringComparison.OrdinalIgnoreCase))];
                }

                // The guest's credentials were meant for the origin it named, not for wherever that origin sends it.
                if (!SameOrigin(uri, next))
                {
                    headers = [.. headers.Where(h => !h.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase)
                                                     && !h.Key.Equals("cookie", StringComparison.OrdinalIgnoreCase))];
                }

                uri = next;
                continue;
            }

            var content = await ReadCappedAsync(response.Content, _options.HttpFetchMaxResponseBytes, ct);
            if (content is null)
            {
                return HostCallReply.Error(AbiCodes.Limit);
            }

            return HostCallReply.Ok(0, FetchEnvelope.WriteResponse(status,
                response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), v))),
                content));
        }
    }

    private static HttpRequestMessage Build(string method, Uri uri, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body)
    {
        var message = new HttpRequestMessage(new HttpMethod(method), uri);
        var contentHeaders = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers)
        {
            if (DroppedRequestHeaders.Contains(name))
            {
                continue;
            }

            if (name.StartsWith("content-", StringComparison.OrdinalIgnoreCase))
            {
                contentHeaders.Add(new(name, value));
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (body.Length > 0 || contentHeaders.Count > 0)
        {
            message.Content = new ByteArrayContent(body);
            foreach (var (name, value) in contentHeaders)
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    /// <returns>The body, or <c>null</c> when it is larger than <paramref name="max"/>.</returns>
    private static async Task<byte[]?> ReadCappedAsync(HttpContent content, int max, CancellationToken ct)
    {
        if (content.Headers.ContentLength > max)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Resolves, checks every address, and connects to a checked one: the only way this client reaches the network.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0)
        {
            throw new HttpRequestException($"{host} has no address");
        }

        // All or nothing: a name that resolves to a refused address among public ones is refused, rather than
        // trusting whichever answer happens to come first.
        foreach (var address in addresses)
        {
            if (_policy.Refusal(address) is { } reason)
            {
                throw new EgressDeniedException(host, address, reason);
            }
        }

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

    private static bool IsHttp(Uri uri) => uri.Scheme is "http" or "https";

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.Port == b.Port && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase);

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
            {
                return found;
            }
        }

        return null;
    }

    public void Dispose() => _client.Dispose();

    private sealed class EgressDeniedException(string host, IPAddress address, string reason)
        : Exception($"{host} resolves to {address}, which is {reason}")
    {
        public string Host { get; } = host;
        public IPAddress Address { get; } = address;
        public string Reason { get; } = reason;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "http_fetch of {TenantId}/{ExtensionId} refused: host {Host} is not among the consented egress hosts (redirect hop {Hop})")]
        public static partial void HostRefused(ILogger logger, string tenantId, string extensionId, string host, int hop);

        [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "http_fetch of {TenantId}/{ExtensionId} refused: {Host} resolves to {Address}, which is {Reason}")]
        public static partial void AddressRefused(ILogger logger, string tenantId, string extensionId, string host, IPAddress address, string reason);

        [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "http_fetch of {TenantId}/{ExtensionId} to {Host} failed")]
        public static partial void FetchFailed(ILogger logger, string tenantId, string extensionId, string host, Exception error);
    }
}

/// <summary>What carries <c>http_fetch</c> requests instead of the network, when one is registered (see <c>HostApiModule.AddEgressTransport</c>).</summary>
internal sealed record EgressTransport(HttpMessageHandler Handler);
