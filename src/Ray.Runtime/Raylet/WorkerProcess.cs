using System.Collections.Concurrent;
using System.Diagnostics;
using Ray.Runtime.Protocol;

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

        _output.Write(Job, ProcessId, line, isError);
    }
}

/// <summary>How to start a worker: the host executable, its arguments and environment.</summary>
internal sealed record WorkerLaunch(string HostPath, IReadOnlyList<string> Arguments, string AppDirectory, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// Where worker output goes: to the job's driver when it is connected to this node (it prints the lines), else to this
/// node's writers. Each line is prefixed with the worker's pid (and the node's address, once output crosses processes),
/// as Ray prints it; stdout lines go to <see cref="Out"/>, stderr lines to <see cref="Error"/>.
/// </summary>
internal sealed class WorkerOutput(TextWriter @out, TextWriter error)
{
    private readonly ConcurrentDictionary<JobId, WorkerHandle> _drivers = new();

    public TextWriter Out { get; } = @out;

    public TextWriter Error { get; } = error;

    /// <summary>This node's address, once it listens on the network: the <c>ip=</c> of forwarded lines.</summary>
    public string? NodeAddress { get; set; }

    /// <summary>
    /// Sends lines of a job whose driver is connected to another node there; false when this node does not know where
    /// the driver is (the lines are printed here then). Set by the node's host in a cluster.
    /// </summary>
    public Func<JobId, WorkerOutputLines, bool>? Remote { get; set; }

    /// <summary>Sends the job's lines to its driver's connection from now on.</summary>
    public void AttachDriver(JobId job, WorkerHandle driver) => _drivers[job] = driver;

    public void DetachDriver(JobId job) => _drivers.TryRemove(job, out _);

    public void Write(JobId job, int processId, string line, bool isError)
    {
        if (_drivers.ContainsKey(job) || Remote is not null)
        {
            var lines = new WorkerOutputLines { Pid = processId, NodeAddress = NodeAddress ?? string.Empty, IsError = isError, Lines = { line } };
            if (Deliver(job, lines) || Remote?.Invoke(job, lines) == true)
            {
                return;
            }
        }

        Print(Prefix(processId, NodeAddress), line, isError ? Error : Out);
    }

    /// <summary>Hands lines to the job's driver if it is connected to this node; false otherwise.</summary>
    public bool Deliver(JobId job, WorkerOutputLines lines)
    {
        if (!_drivers.TryGetValue(job, out var driver))
        {
            return false;
        }

        driver.Send(new RayletMessage { WorkerOutput = lines });
        return true;
    }

    /// <summary>Prints lines a node forwarded, as a driver does.</summary>
    public void Print(WorkerOutputLines lines)
    {
        var prefix = Prefix(lines.Pid, lines.NodeAddress.Length > 0 ? lines.NodeAddress : null);
        foreach (var line in lines.Lines)
        {
            Print(prefix, line, lines.IsError ? Error : Out);
        }
    }

    private static string Prefix(int processId, string? nodeAddress) =>
        nodeAddress is null ? $"(pid={processId}) " : $"(pid={processId}, ip={IpOf(nodeAddress)}) ";

    private static string IpOf(string address) => address.LastIndexOf(':') is var colon and > 0 ? address[..colon] : address;

    private static void Print(string prefix, string line, TextWriter writer)
    {
        lock (writer)
        {
            writer.WriteLine(prefix + line);
        }
    }
}
