using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Extensions.Tests.Support;

/// <summary>
/// Keeps every log line the platform writes, with the text of any exception logged with it (a console logger prints that
/// too), so tests can assert on what reached the host's log, leak tests included.
/// </summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : Environment.NewLine + exception)));
    }
}
