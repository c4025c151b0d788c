using System.Diagnostics;
using System.Text;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// A <c>Ray.TestDriver</c> process (see its Program.cs for the modes): a real driver with its own embedded node, which
/// a test can signal, kill or watch exit without touching the test's own runtime. It runs in a process group of its
/// own (so a signal to the group reaches it and its workers, like a Ctrl+C in a terminal) with SIGINT at its default,
/// whatever the test runner inherited.
/// </summary>
internal sealed class DriverProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _stdout = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DriverProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int ProcessId => _process.Id;

    public int[] Workers { get; private set; } = [];

    public int[] ActorWorkers { get; private set; } = [];

    /// <summary>The directory of the node's shared memory.</summary>
    public string Store { get; private set; } = string.Empty;

    /// <summary>The raylet's Unix socket.</summary>
    public string Socket { get; private set; } = string.Empty;

    /// <summary>Every worker process of the node, task and actor workers alike.</summary>
    public int[] AllWorkers => [.. Workers, .. ActorWorkers];

    /// <summary>What the driver wrote to stderr so far: its logs, RayGen's at Debug.</summary>
    public string Errors
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_stdout)
            {
                return string.Join(Environment.NewLine, _stdout);
            }
        }
    }

    /// <summary>Starts the driver in <paramref name="mode"/> and waits until its node is up and it printed what it runs.</summary>
    public static async Task<DriverProcess> StartAsync(string mode, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])["env", "--default-signal=INT", FindDotnet(), Path.Combine(AppContext.BaseDirectory, "Ray.TestDriver.dll"), mode, .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var driver = new DriverProcess(Process.Start(startInfo)!);
        try
        {
            await Task.WhenAny(driver._ready.Task, driver._process.WaitForExitAsync()).WaitAsync(Timeout);
            if (!driver._ready.Task.IsCompleted)
            {
                throw new Xunit.Sdk.XunitException($"The driver exited with code {driver._process.ExitCode} before it was ready:{Environment.NewLine}{driver.Errors}");
            }
        }
        catch
        {
            driver.Dispose();
            throw;
        }

        return driver;
    }

    /// <summary>Sends <paramref name="signal"/> (INT, TERM, KILL) to the driver alone, or to its whole process group.</summary>
    public void Signal(string signal, bool wholeGroup = false)
    {
        var target = wholeGroup ? $"-{_process.Id}" : _process.Id.ToString();
        using var kill = Process.Start("kill", ["-" + signal, "--", target])!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the driver to exit; returns its exit code (128 + n for a signal n).</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Timeout);

        // The output readers may still hold the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the driver printed <paramref name="line"/>.</summary>
    public async Task WaitForLineAsync(string line)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!HasLine(line))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The driver did not print '{line}' within {Timeout.TotalSeconds} s. It printed:{Environment.NewLine}{Output}{Environment.NewLine}{Errors}");
            if (_process.HasExited)
            {
                // The output readers may still hold the last lines, the one looked for included.
                _process.WaitForExit();
                Assert.True(HasLine(line), $"The driver exited without printing '{line}':{Environment.NewLine}{Output}{Environment.NewLine}{Errors}");
                return;
            }

            await Task.Delay(20);
        }
    }

    public bool HasLine(string line)
    {
        lock (_stdout)
        {
            return _stdout.Contains(line);
        }
    }

    /// <summary>Waits until none of <paramref name="pids"/> runs (a zombie counts as gone).</summary>
    public static async Task AssertAllExitAsync(IEnumerable<int> pids, TimeSpan within)
    {
        var list = pids.ToArray();
        var deadline = DateTime.UtcNow + within;
        while (list.Any(IsRunning))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Still running after {within.TotalSeconds} s: {string.Join(", ", list.Where(IsRunning))}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until none of <paramref name="paths"/> exists.</summary>
    /// <param name="paths">The files and directories.</param>
    /// <param name="within">How long to wait.</param>
    /// <param name="driver">The driver whose files they are: what it wrote to stderr goes into the failure.</param>
    public static async Task AssertAllDeletedAsync(IEnumerable<string> paths, TimeSpan within, DriverProcess? driver = null)
    {
        var list = paths.ToArray();
        var deadline = DateTime.UtcNow + within;
        while (list.Any(Exists))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Still there after {within.TotalSeconds} s: {string.Join(", ", list.Where(Exists))}" +
                                                    (driver is null ? string.Empty : $"{Environment.NewLine}The driver's stderr:{Environment.NewLine}{driver.Errors}"));
            await Task.Delay(20);
        }
    }

    public static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..][0];
            return state != 'Z' && state != 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Signal("KILL", wholeGroup: true);
        }

        _process.Dispose();
    }

    internal static string FindDotnet() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static int[] Pids(string line, string prefix) =>
        line[prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stdout)
        {
            _stdout.Add(line);
        }

        if (line.StartsWith("workers: ", StringComparison.Ordinal))
        {
            Workers = Pids(line, "workers: ");
        }
        else if (line.StartsWith("actors: ", StringComparison.Ordinal))
        {
            ActorWorkers = Pids(line, "actors: ");
        }
        else if (line.StartsWith("store: ", StringComparison.Ordinal))
        {
            Store = line["store: ".Length..];
        }
        else if (line.StartsWith("socket: ", StringComparison.Ordinal))
        {
            Socket = line["socket: ".Length..];
        }
        else if (line == "ready")
        {
            _ready.TrySetResult();
        }
    }
}
