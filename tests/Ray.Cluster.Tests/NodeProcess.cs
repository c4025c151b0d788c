using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// A real process of the cluster under test: a node (<c>raygen start … --block</c>), a driver (Ray.ClusterApp) or a CLI
/// command, with its output captured. Every wait has a timeout; disposing kills what still runs.
/// </summary>
internal sealed partial class NodeProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyLine;

    private NodeProcess(ProcessStartInfo startInfo, string? readyLine)
    {
        _readyLine = readyLine;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        _process = new Process { StartInfo = startInfo };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    /// <summary>The node's id and address, from the line it prints once started.</summary>
    public string NodeId { get; private set; } = string.Empty;

    public string Address { get; private set; } = string.Empty;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far, stdout and stderr together.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> and, when <paramref name="readyLine"/> is given, waits until it prints that line.</summary>
    public static async Task<NodeProcess> StartAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string? readyLine)
    {
        var startInfo = new ProcessStartInfo(fileName);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = new NodeProcess(startInfo, readyLine);
        if (readyLine is not null)
        {
            try
            {
                await Task.WhenAny(process._ready.Task, process._process.WaitForExitAsync()).WaitAsync(Timeout);
                if (!process._ready.Task.IsCompleted)
                {
                    throw new Xunit.Sdk.XunitException($"{fileName} {string.Join(' ', arguments)} exited with code {process._process.ExitCode} before it was ready:{Environment.NewLine}{process.Output}");
                }
            }
            catch
            {
                process.Dispose();
                throw;
            }
        }

        return process;
    }

    /// <summary>Sends a signal (INT, TERM, KILL) to the process.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString()])!;
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Timeout);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the output matches <paramref name="pattern"/>; returns the match.</summary>
    public async Task<Match> WaitForOutputAsync(string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            if (regex.Match(Output) is { Success: true } match)
            {
                return match;
            }

            Assert.True(DateTime.UtcNow < deadline, $"No output matched '{pattern}' within {Timeout.TotalSeconds} s:{Environment.NewLine}{Output}");
            Assert.False(_process.HasExited && !regex.IsMatch(Output), $"The process exited before its output matched '{pattern}':{Environment.NewLine}{Output}");
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^Node (?<id>[0-9a-f]{32}) started at (?<address>[0-9.]+:[0-9]+)")]
    private static partial Regex StartedLine();

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (StartedLine().Match(line) is { Success: true } started)
        {
            NodeId = started.Groups["id"].Value;
            Address = started.Groups["address"].Value;
        }

        if (line == _readyLine)
        {
            _ready.TrySetResult();
        }
    }
}
