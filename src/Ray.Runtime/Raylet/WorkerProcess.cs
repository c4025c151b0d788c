using System.Diagnostics;

namespace Ray.Raylet;

/// <summary>
/// One Ray.Worker operating-system process: started with the raylet's socket, its stdout and stderr forwarded line
/// by line (<see cref="WorkerOutput"/>), and its exit observed.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly WorkerOutput _output;
    private readonly Queue<string> _recentErrors = new();

    private WorkerProcess(Process process, JobId job, string appDirectory, int index, WorkerKind kind, WorkerOutput output)
    {
        Job = job;
        AppDirectory = appDirectory;
        Kind = kind;
        _process = process;
        _output = output;
        Index = index;
        ProcessId = process.Id;
        Exited = WaitForExitAsync();
    }

    public int Index { get; }

    /// <summary>The job whose code the worker loads.</summary>
    public JobId Job { get; }

    /// <summary>Where the job's assemblies are on this node.</summary>
    public string AppDirectory { get; }

    /// <summary>What the process is for.</summary>
    public WorkerKind Kind { get; }

    public int ProcessId { get; }

    /// <summary>Completes with the exit code when the process ends.</summary>
    public Task<int> Exited { get; }

    /// <summary>The last lines the worker wrote to stderr, for error messages when it fails to start.</summary>
    public string RecentErrors
    {
        get
        {
            lock (_recentErrors)
            {
                return string.Join(Environment.NewLine, _recentErrors);
            }
        }
    }

    public static WorkerProcess Start(WorkerLaunch launch, JobId job, int index, WorkerKind kind, WorkerOutput output)
    {
        var startInfo = new ProcessStartInfo(launch.HostPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = launch.AppDirectory,
        };
        foreach (var argument in launch.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.ArgumentList.Add("--worker-index");
        startInfo.ArgumentList.Add(index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in launch.Environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.Start();
        var worker = new WorkerProcess(process, job, launch.AppDirectory, index, kind, output);
        process.OutputDataReceived += (_, e) => worker.Forward(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => worker.Forward(e.Data, isError: true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose() => _process.Dispose();

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    private void Forward(string? line, bool isError)
    {
        if (line is null)
        {
            return;
        }

        if (isError)
        {
            lock (_recentErrors)
            {
                _recentErrors.Enqueue(line);
                if (_recentErrors.Count > 20)
                {
                    _recentErrors.Dequeue();
                }
            }
        }

        _output.Write(ProcessId, line, isError);
    }
}

/// <summary>How to start a worker: the host executable, its arguments and environment.</summary>
internal sealed record WorkerLaunch(string HostPath, IReadOnlyList<string> Arguments, string AppDirectory, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// Where worker output goes: each line prefixed with the worker's pid (and the node's address, once output crosses
/// nodes), as Ray prints it, stdout lines to <see cref="Out"/> and stderr lines to <see cref="Error"/>.
/// </summary>
internal sealed record WorkerOutput(TextWriter Out, TextWriter Error, string? NodeAddress = null)
{
    public void Write(int processId, string line, bool isError)
    {
        var prefix = NodeAddress is null ? $"(pid={processId}) " : $"(pid={processId}, ip={NodeAddress}) ";
        var writer = isError ? Error : Out;
        lock (writer)
        {
            writer.WriteLine(prefix + line);
        }
    }
}
