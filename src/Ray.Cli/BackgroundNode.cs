using System.Diagnostics;
using Ray.Hosting;

namespace Ray.Cli;

/// <summary>
/// <c>raygen start</c> without <c>--block</c>: starts the same command with <c>--block</c> in a session of its own (so a
/// Ctrl+C in this terminal does not reach it), its output in a log file, and returns once the node is ready.
/// </summary>
internal static class BackgroundNode
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    public static async Task<int> StartAsync(ClusterSession session, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(session.LogsDirectory);
        var log = Path.Combine(session.LogsDirectory, $"raygen-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        var (executable, prefix) = Self();
        var startInfo = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };

        // setsid: a session (and process group) of its own; the redirections leave no tie to this terminal.
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add("log=\"$1\"; shift; exec setsid \"$@\" --block >>\"$log\" 2>&1 </dev/null");
        startInfo.ArgumentList.Add("raygen");
        startInfo.ArgumentList.Add(log);
        startInfo.ArgumentList.Add(executable);
        foreach (var argument in prefix.Concat(Environment.GetCommandLineArgs().Skip(1)))
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new RayException("Could not start the node's process.");
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (session.LiveNodes().FirstOrDefault(n => n.Pid == process.Id) is { } record)
            {
                Console.Write(ForegroundNode.Announcement(record.NodeId, record.Address, record.IsHead ? null : record.GcsAddress, record.Tls, record.TokenFile));
                Console.WriteLine($"The node runs in the background (pid {record.Pid}); its log is {log}. Stop it with 'raygen stop'.");
                return 0;
            }

            if (process.HasExited)
            {
                await Console.Error.WriteLineAsync($"raygen start: the node exited with code {process.ExitCode} before it was ready.{Environment.NewLine}{Tail(log)}");
                return process.ExitCode == 0 ? 1 : process.ExitCode;
            }

            await Task.Delay(50, cancellationToken);
        }

        await Console.Error.WriteLineAsync($"raygen start: the node was not ready within {ReadyTimeout.TotalSeconds:0} s; see {log}.");
        return 1;
    }

    /// <summary>How this command was started: the raygen executable, or <c>dotnet raygen.dll</c>.</summary>
    private static (string Executable, string[] Prefix) Self()
    {
        var processPath = Environment.ProcessPath ?? throw new RayException("Cannot tell which executable this is.");
        return Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? (processPath, [Path.Combine(AppContext.BaseDirectory, "raygen.dll")])
            : (processPath, []);
    }

    private static string Tail(string log)
    {
        try
        {
            return string.Join(Environment.NewLine, File.ReadAllLines(log).TakeLast(20));
        }
        catch (IOException)
        {
            return $"(no output in {log})";
        }
    }
}
