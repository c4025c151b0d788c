using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Ray.Hosting;

namespace Ray.Cli;

/// <summary>
/// <c>raygen stop</c>: stops every node started on this machine (their records in the session directory), the nodes
/// that joined first and the head last. Each gets SIGTERM and stops cleanly, workers included; one still running after
/// the grace period is killed.
/// </summary>
internal static partial class StopCommand
{
    private const int Sigterm = 15;

    private static readonly Option<double> Grace = new("--grace-period") { Description = "Seconds a node has to stop cleanly before it is killed.", DefaultValueFactory = _ => 10 };

    public static Command Create()
    {
        var command = new Command("stop", "Stop every RayGen node started on this machine, with its workers.") { Grace };
        command.SetAction((result, cancellationToken) => RunAsync(TimeSpan.FromSeconds(result.GetValue(Grace)), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        var nodes = ClusterSession.Current.LiveNodes().OrderBy(n => n.IsHead).ToArray();
        if (nodes.Length == 0)
        {
            Console.WriteLine("No RayGen node runs on this machine.");
            return 0;
        }

        var failed = 0;
        foreach (var node in nodes)
        {
            Process process;
            try
            {
                process = Process.GetProcessById(node.Pid);
            }
            catch (ArgumentException)
            {
                continue;
            }

            using (process)
            {
                _ = Kill(node.Pid, Sigterm);
                var exited = process.WaitForExitAsync(cancellationToken);
                if (await Task.WhenAny(exited, Task.Delay(grace, cancellationToken)) != exited)
                {
                    process.Kill(entireProcessTree: true);
                    Console.WriteLine($"Killed node {node.NodeId} at {node.Address} (pid {node.Pid}): it did not stop within {grace.TotalSeconds:0.#} s.");
                    failed++;
                    continue;
                }
            }

            Console.WriteLine($"Stopped node {node.NodeId} at {node.Address}{(node.IsHead ? " (head)" : string.Empty)}.");
        }

        return failed == 0 ? 0 : 1;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
