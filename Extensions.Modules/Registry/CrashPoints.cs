namespace Extensions.Modules.Registry;

/// <summary>
/// Named points inside publish and install where a test can freeze the process (to kill it there and prove the registry
/// holds the old or the new state). Only the test harness sets <c>EXTENSIONS_TEST_PAUSE_AT</c>
/// (<c>point</c> or <c>point@extensionId</c>); without it every call returns at once.
/// </summary>
internal sealed class CrashPoints
{
    public const string Variable = "EXTENSIONS_TEST_PAUSE_AT";

    private readonly string? _pauseAt = Environment.GetEnvironmentVariable(Variable);

    public async Task ReachedAsync(string point, string extensionId)
    {
        if (_pauseAt is null || (_pauseAt != point && _pauseAt != $"{point}@{extensionId}"))
        {
            return;
        }

        await System.Console.Out.WriteLineAsync($"paused at {point}");
        await System.Console.Out.FlushAsync();
        await Task.Delay(Timeout.Infinite);
    }
}
