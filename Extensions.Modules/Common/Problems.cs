using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Extensions.Modules.Common;

/// <summary>Writes RFC 9457 problem details with the project's stable fields: <c>code</c> and <c>requestId</c>.</summary>
public static class Problems
{
    public const string RequestIdHeader = "x-request-id";

    public static ProblemDetails Create(HttpContext context, int status, string code, string detail)
    {
        var problem = new ProblemDetails
        {
            Type = $"urn:extensions:problem:{code}",
            Title = Title(code),
            Status = status,
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        problem.Extensions["requestId"] = RequestId(context);
        return problem;
    }

    public static Task WriteAsync(HttpContext context, int status, string code, string detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(
            Create(context, status, code, detail), ProblemJsonContext.Default.ProblemDetails, "application/problem+json");
    }

    /// <summary>A problem with extra members beside <c>code</c> and <c>requestId</c>.</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string detail, IReadOnlyDictionary<string, System.Text.Json.JsonElement> members)
    {
        var problem = Create(context, status, code, detail);
        foreach (var (name, value) in members)
        {
            problem.Extensions[name] = value;
        }

        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(problem, ProblemJsonContext.Default.ProblemDetails, "application/problem+json");
    }

    /// <summary>The request id: the caller's <c>x-request-id</c> when it is sane, else the trace identifier.</summary>
    public static string RequestId(HttpContext context)
    {
        if (context.Items.TryGetValue(RequestIdHeader, out var existing) && existing is string id)
        {
            return id;
        }

        var incoming = context.Request.Headers[RequestIdHeader].ToString();
        id = IsSafeRequestId(incoming) ? incoming : Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        context.Items[RequestIdHeader] = id;
        return id;
    }

    private static bool IsSafeRequestId(string value) =>
        value.Length is > 0 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    /// <summary><c>endpoint_not_found</c> → "Endpoint not found".</summary>
    private static string Title(string code) => char.ToUpperInvariant(code[0]) + code[1..].Replace('_', ' ');
}
