using System.Diagnostics;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>Runs a separate driver process, so that it can be disposed or killed without touching this one.</summary>
public sealed class ProcessLifetimeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DisposeAsync_stops_every_worker()
    {
        using var driver = StartDriver("dispose");
        var workers = await ReadWorkerPidsAsync(driver);
        Assert.Equal(2, workers.Length);
        await driver.WaitForExitAsync().WaitAsync(Timeout);
        Assert.Equal(0, driver.ExitCode);
        await AssertAllExitAsync(workers, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Workers_exit_by_themselves_when_the_driver_is_killed()
    {
        using var driver = StartDriver("wait");
        var workers = await ReadWorkerPidsAsync(driver);
        Assert.Equal(2, workers.Length);
        Assert.All(workers, pid => Assert.True(IsRunning(pid)));

        driver.Kill();
        await driver.WaitForExitAsync().WaitAsync(Timeout);
        await AssertAllExitAsync(workers, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_shared_memory_of_a_killed_node_is_deleted_when_the_next_node_starts()
    {
        using var killed = StartDriver("store");
        var (workers, store) = await ReadStartupAsync(killed);
        Assert.True(store.StartsWith("/dev/shm/", StringComparison.Ordinal) || store.StartsWith(Path.GetTempPath(), StringComparison.Ordinal), store);
        Assert.True(File.Exists(Path.Combine(store, "objects")), $"The node's store {store} has no shared-memory file.");

        killed.Kill();
        await killed.WaitForExitAsync().WaitAsync(Timeout);
        await AssertAllExitAsync(workers, TimeSpan.FromSeconds(10));
        Assert.True(Directory.Exists(store), "A killed node cannot clean up after itself; the next one must.");

        using var next = StartDriver("dispose");
        var (_, nextStore) = await ReadStartupAsync(next);
        Assert.False(Directory.Exists(store), $"{store} of the killed node is still there after another node started.");
        await next.WaitForExitAsync().WaitAsync(Timeout);
        Assert.Equal(0, next.ExitCode);
        Assert.False(Directory.Exists(nextStore), "A node that was disposed left its store behind.");
    }

    /// <summary>Starts Ray.TestDriver in <paramref name="mode"/> with its output redirected.</summary>
    internal static Process StartDriver(string mode)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Ray.TestDriver.dll");
        var startInfo = new ProcessStartInfo(FindDotnet())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        startInfo.ArgumentList.Add(dll);
        startInfo.ArgumentList.Add(mode);
        return Process.Start(startInfo)!;
    }

    private static async Task<int[]> ReadWorkerPidsAsync(Process driver) => (await ReadStartupAsync(driver)).Workers;

    /// <summary>The driver's worker pids and the directory of its object store, from the lines it prints once started.</summary>
    private static async Task<(int[] Workers, string Store)> ReadStartupAsync(Process driver)
    {
        using var cancellation = new CancellationTokenSource(Timeout);
        int[]? workers = null;
        while (await driver.StandardOutput.ReadLineAsync(cancellation.Token) is { } line)
        {
            if (line.StartsWith("workers: ", StringComparison.Ordinal))
            {
                workers = line["workers: ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            }
            else if (line.StartsWith("store: ", StringComparison.Ordinal) && workers is not null)
            {
                return (workers, line["store: ".Length..]);
            }
        }

        throw new Xunit.Sdk.XunitException($"The driver exited without printing its workers and store: {await driver.StandardError.ReadToEndAsync().WaitAsync(Timeout)}");
    }

    private static async Task AssertAllExitAsync(int[] pids, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (pids.Any(IsRunning))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Workers still running after {within.TotalSeconds} s: {string.Join(", ", pids.Where(IsRunning))}");
            await Task.Delay(50);
        }
    }

    // A zombie (exited, not yet reaped by its parent) counts as gone.
    private static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }

        try
        {
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..][0];
            return state != 'Z' && state != 'X';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string FindDotnet() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
}
