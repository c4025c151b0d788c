using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Ray.Runtime.Tests.Transport;

/// <summary>A logger factory that keeps every message, with its structured values, for tests to inspect.</summary>
internal sealed class CapturedLogs : ILoggerFactory
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    /// <summary>Every character logged: messages, the values in them, exceptions, to look for what must not be there.</summary>
    public string AllText() => string.Join(
        "\n",
        _entries.Select(e => $"{e.Message} {string.Join(" ", e.Values.Select(v => v.Value))} {e.Exception}"));

    /// <summary>Waits for a message that satisfies <paramref name="match"/>: logs from a TLS handshake may land after the client has seen the failure.</summary>
    public async Task<Entry> WaitForAsync(Func<Entry, bool> match, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            if (_entries.FirstOrDefault(match) is { } entry)
            {
                return entry;
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"No matching log message within {timeout}; logged:\n{AllText()}");
            }

            await Task.Delay(10);
        }
    }

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    internal sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values, Exception? Exception);

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), [.. values], exception));
        }
    }
}
