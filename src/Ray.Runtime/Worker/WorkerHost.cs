using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Worker;

/// <summary>
/// The main loop of a Ray.Worker process: connect to the raylet's socket, register with a version handshake,
/// then run tasks until the stream ends. The worker exits by itself when the raylet goes away or its parent
/// (the driver) dies, so no worker outlives its driver.
/// </summary>
public static class WorkerHost
{
    /// <summary>Exit code when the raylet rejected the worker (for example a version mismatch).</summary>
    public const int RejectedExitCode = 3;

    /// <summary>Exit code when the parent process died.</summary>
    public const int OrphanedExitCode = 4;

    /// <summary>How many times an orphaned worker probes a directory's lock that its siblings may be probing too.</summary>
    private const int OrphanAttempts = 20;

    /// <summary>How long a worker whose connection just ended waits for its raylet's process to be gone.</summary>
    private static readonly TimeSpan OrphanWait = TimeSpan.FromSeconds(5);

    private static readonly Lock DeletionGate = new();

    /// <summary>Runs the worker with its command-line arguments; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WorkerArguments arguments;
        try
        {
            arguments = WorkerArguments.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"Ray.Worker: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        // A Ctrl+C in a terminal reaches the whole process group. The worker belongs to its raylet, which decides
        // when it stops (and the driver may choose to survive a Ctrl+C): it exits when the raylet ends its stream or
        // its process ends, never on SIGINT of its own.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, static context => context.Cancel = true);

        TaskOutput.Install();

        // Tasks that block in Get hold a thread each; start with enough threads that nesting never waits for injection.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);

        using var loggerFactory = RayRuntime.CreateDefaultLoggerFactory();
        var logger = loggerFactory.CreateLogger("Ray.Worker");
        string[] nodeDirectories = [];
        _ = WatchParentAsync(arguments.ParentProcessId, () => Volatile.Read(ref nodeDirectories), arguments.SocketPath);

        var token = Environment.GetEnvironmentVariable(ClusterToken.EnvironmentVariable) ?? string.Empty;
        await using var connection = RayletConnection.OpenLocal(arguments.SocketPath, token, new WorkerMessage
        {
            Register = new RegisterWorker
            {
                ProtocolVersion = RuntimeVersion.Protocol,
                RuntimeVersion = RuntimeVersion.Current,
                Pid = Environment.ProcessId,
                WorkerIndex = arguments.WorkerIndex,
            },
        });
        var core = connection.Core;
        JobAssemblyLoader? loader = null;
        var executor = new TaskExecutor(connection.Send, () => Volatile.Read(ref loader), core);

        void Handle(RayletMessage message)
        {
            switch (message.BodyCase)
            {
                case RayletMessage.BodyOneofCase.Execute:
                    executor.Enqueue(message.Execute);
                    break;
                case RayletMessage.BodyOneofCase.Cancel:
                    if (message.Cancel.ActorId is { } actorId)
                    {
                        executor.CancelActorCall(new ActorId(actorId.ToObjectId()), message.Cancel.TaskId.ToObjectId());
                    }
                    else
                    {
                        executor.Cancel(message.Cancel.TaskId.ToObjectId());
                    }

                    break;
                case RayletMessage.BodyOneofCase.CreateActor:
                    executor.CreateActor(message.CreateActor);
                    break;
                case RayletMessage.BodyOneofCase.ExecuteActorTask:
                    executor.ExecuteActorTask(message.ExecuteActorTask);
                    break;
                case RayletMessage.BodyOneofCase.GeneratorConsumed:
                    executor.OnGeneratorConsumed(message.GeneratorConsumed);
                    break;
                case RayletMessage.BodyOneofCase.KillActor:
                    executor.KillActor(new ActorId(message.KillActor.ActorId.ToObjectId()));
                    break;
                case RayletMessage.BodyOneofCase.Registered:
                    Volatile.Write(ref nodeDirectories, [.. message.Registered.NodeDirectories]);
                    Volatile.Write(ref loader, new JobAssemblyLoader(message.Registered.AppDirectory));
                    RayRuntime.AttachWorker(core);
                    break;
                default:
                    logger.LogWarning("Ignored a {Kind} message from the raylet.", message.BodyCase);
                    break;
            }
        }

        try
        {
            await connection.RunAsync(Handle, CancellationToken.None).ConfigureAwait(false);

            // The connection ended without the raylet's goodbye: its process died (the kernel closes the socket while
            // the process is still exiting, so wait for it to be gone), and the node's files are this worker's to delete.
            if (!connection.EndedByRaylet && WaitForExit(arguments.ParentProcessId, OrphanWait))
            {
                DeleteNodeFiles(nodeDirectories, arguments.SocketPath);
            }

            return 0;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.PermissionDenied or StatusCode.InvalidArgument or StatusCode.Unauthenticated)
        {
            await Console.Error.WriteLineAsync($"Ray.Worker: the raylet rejected this worker: {e.Status.Detail}").ConfigureAwait(false);
            return RejectedExitCode;
        }
        catch (Exception e) when (e is RpcException or IOException)
        {
            // The raylet went away (the driver exited or was killed): nothing left to serve.
            if (!IsAlive(arguments.ParentProcessId))
            {
                DeleteNodeFiles(nodeDirectories, arguments.SocketPath);
            }

            return 0;
        }
    }

    private static async Task WatchParentAsync(int parentProcessId, Func<string[]> nodeDirectories, string socketPath)
    {
        if (parentProcessId <= 0)
        {
            return;
        }

        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
            if (!IsAlive(parentProcessId))
            {
                // No one reads this process's output any more: clean up first, say why only if it still can.
                DeleteNodeFiles(nodeDirectories(), socketPath);
                try
                {
                    await Console.Error.WriteLineAsync($"Ray.Worker: the raylet's process (pid {parentProcessId}) is gone; exiting.").ConfigureAwait(false);
                }
                catch (IOException)
                {
                }

                Environment.Exit(OrphanedExitCode);
            }
        }
    }

    /// <summary>
    /// The raylet died without cleaning up (it was killed): delete its directories (shared memory, spill files, socket)
    /// once its lock is free, so nothing is left behind even if no node starts after it. Every orphaned worker tries;
    /// the first one wins.
    /// </summary>
    private static void DeleteNodeFiles(string[] directories, string socketPath)
    {
        // The end of the stream and the parent's watch may both get here; one pass is enough.
        lock (DeletionGate)
        {
            foreach (var directory in directories)
            {
                global::Ray.ObjectStore.NodeDirectory.DeleteIfAbandoned(directory, OrphanAttempts);
            }

            if (Path.GetDirectoryName(socketPath) is { } socketDirectory && !directories.Contains(socketDirectory))
            {
                global::Ray.ObjectStore.NodeDirectory.DeleteIfAbandoned(socketDirectory, OrphanAttempts);
            }
        }
    }

    /// <summary>Whether <paramref name="processId"/> is gone within <paramref name="within"/>.</summary>
    private static bool WaitForExit(int processId, TimeSpan within)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(within.TotalSeconds * Stopwatch.Frequency);
        while (IsAlive(processId))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }

    private static bool IsAlive(int processId)
    {
        if (OperatingSystem.IsLinux())
        {
            // A raylet that was killed stays a zombie until its parent reaps it; that is not alive.
            return global::Ray.ObjectStore.NodeDirectory.ProcessStartTime(processId).Length > 0;
        }

        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private sealed record WorkerArguments(string SocketPath, int ParentProcessId, int WorkerIndex)
    {
        public static WorkerArguments Parse(string[] args)
        {
            string? socket = null;
            var parent = 0;
            var index = 0;
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {args[i]} needs a value.");
                switch (args[i])
                {
                    case "--raylet-socket":
                        socket = Next();
                        break;
                    case "--parent-pid":
                        parent = int.Parse(Next(), CultureInfo.InvariantCulture);
                        break;
                    case "--worker-index":
                        index = int.Parse(Next(), CultureInfo.InvariantCulture);
                        break;
                    case "--app-directory":
                        Next();
                        break;
                    default:
                        throw new ArgumentException($"Unknown option '{args[i]}'. Ray.Worker is started by the raylet, not by hand.");
                }
            }

            return new WorkerArguments(
                socket ?? throw new ArgumentException("Missing --raylet-socket: Ray.Worker is started by the raylet, not by hand."),
                parent,
                index);
        }
    }
}
