using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ray.Hosting;

/// <summary>
/// Settings every ASP.NET Core host inside RayGen shares (the raylet's socket server today): the host is a
/// component of the user's process, not the process itself, so it must not take the process's signals, print
/// ASP.NET Core's banner, or log HTTP/2 request lines through the user's logger.
/// </summary>
internal static class EmbeddedHost
{
    /// <summary>
    /// Replaces the console lifetime (which swallows SIGINT and SIGTERM and prints "Press Ctrl+C to shut down") with
    /// one that does nothing, and routes framework logs (Kestrel, hosting, gRPC) to <paramref name="loggerFactory"/>
    /// only at <paramref name="frameworkLevel"/> and above; <see cref="LogLevel.None"/> turns them off.
    /// </summary>
    public static void Configure(WebApplicationBuilder builder, ILoggerFactory loggerFactory, LogLevel frameworkLevel)
    {
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, ComponentLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        ILoggerFactory framework = frameworkLevel == LogLevel.None
            ? NullLoggerFactory.Instance
            : new FilteredLoggerFactory(loggerFactory, frameworkLevel);
        builder.Services.AddSingleton(framework);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
    }

    /// <summary>A lifetime that neither waits for nor handles anything: the process belongs to the user's code.</summary>
    private sealed class ComponentLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Forwards to the user's factory the framework messages at or above a level.</summary>
    private sealed class FilteredLoggerFactory(ILoggerFactory inner, LogLevel minimum) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new FilteredLogger(inner.CreateLogger(categoryName), minimum);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The user's factory is the user's to dispose.
        }

        private sealed class FilteredLogger(ILogger inner, LogLevel minimum) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => inner.BeginScope(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && inner.IsEnabled(logLevel);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    inner.Log(logLevel, eventId, state, exception, formatter);
                }
            }
        }
    }
}
