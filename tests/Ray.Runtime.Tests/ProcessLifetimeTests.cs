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

        Process.Start("kill", ["-9", driver.Id.ToString()])!.WaitForExit();
        await driver.WaitForExitAsync().WaitAsync(Timeout);
        await AssertAllExitAsync(workers, TimeSpan.FromSeconds(10));
    }

    private static Process StartDriver(string mode)
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

    private static async Task<int[]> ReadWorkerPidsAsync(Process driver)
    {
        using var cancellation = new CancellationTokenSource(Timeout);
        while (await driver.StandardOutput.ReadLineAsync(cancellation.Token) is { } line)
        {
            if (line.StartsWith("workers: ", StringComparison.Ordinal))
            {
                return line["workers: ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            }
        }

        throw new Xunit.Sdk.XunitException($"The driver exited without printing its workers: {await driver.StandardError.ReadToEndAsync()}");
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
