using Extensions.Modules.Runner.Contracts;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Gateway;

internal static class HealthEndpoint
{
    public static IResult Handle(IExtensionRunner runner)
    {
        var workers = runner.LiveWorkers;
        return Results.Json(new { status = workers > 0 ? "ok" : "degraded", workers }, statusCode: workers > 0 ? 200 : 503);
    }
}
