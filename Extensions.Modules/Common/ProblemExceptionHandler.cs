using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.Common;

/// <summary>The one exit for exceptions: expected ones keep their code and detail; anything else is logged and answered
/// with a generic <c>internal</c> problem that leaks nothing.</summary>
internal sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        switch (exception)
        {
            case ExtensionsException { Members: { } members } known:
                await Problems.WriteAsync(httpContext, known.Status, known.Code, known.Message, members);
                return true;
            case ExtensionsException known:
                await Problems.WriteAsync(httpContext, known.Status, known.Code, known.Message);
                return true;
            case BadHttpRequestException bad:
                await Problems.WriteAsync(httpContext, bad.StatusCode,
                    bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? ProblemCodes.PayloadTooLarge : ProblemCodes.InvalidRequest,
                    bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is larger than allowed" : "the request could not be read: " + bad.Message);
                return true;
            default:
                Log.Unhandled(logger, exception, Problems.RequestId(httpContext));
                await Problems.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, ProblemCodes.Internal,
                    "an internal error occurred; quote the requestId to the operator");
                return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Unhandled error in request {RequestId}")]
        public static partial void Unhandled(ILogger logger, Exception exception, string requestId);
    }
}
