using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Replay;
using Ray.Runtime.Protocol;
using Ray.Worker;
using Spectre.Console;

namespace Ray.Cli;

/// <summary>
/// <c>raygen replay FILE</c>: runs a failed call from a capture file (<c>RayOptions.FailedTaskCapture.Directory</c>) in this
/// process, so that a debugger attached to it stops in the remote function: the job's assemblies are loaded from the
/// application directory the file names (or <c>--app-dir</c>), the function runs on the recorded argument bytes, and what
/// it throws is printed beside what it threw when it failed.
/// </summary>
internal static class ReplayCommand
{
    /// <summary>The call threw the recorded exception type again.</summary>
    public const int Reproduced = 0;

    /// <summary>The file could not be read, or the call could not be run.</summary>
    public const int CouldNotRun = 1;

    /// <summary>The call threw an exception of another type.</summary>
    public const int ThrewOther = 2;

    /// <summary>The call returned normally.</summary>
    public const int Returned = 3;

    private static readonly Argument<FileInfo> File = new("file") { Description = "A capture file (*.raygen-replay.json) written by a driver with RayOptions.FailedTaskCapture.Directory set." };
    private static readonly Option<DirectoryInfo?> AppDirectory = new("--app-dir") { Description = "Where the job's assemblies are (default: the application directory recorded in the file)." };
    private static readonly Option<bool> WaitForDebugger = new("--wait-for-debugger") { Description = "Print this process's id and wait until a debugger is attached before running the call." };

    public static Command Create()
    {
        var command = new Command(
            "replay",
            "Run a failed task or actor call again from its capture file, in this process, so that a debugger can stop in it. Exit code: " +
            $"{Reproduced} the recorded exception type was thrown again, {ThrewOther} another was, {Returned} the call returned, {CouldNotRun} it could not run.")
        {
            File, AppDirectory, WaitForDebugger,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            // A log or a pipe keeps each line whole.
            console.Profile.Width = 4096;
        }

        FailedCallRecord record;
        string appDirectory;
        try
        {
            record = FailedCallFile.Read(result.GetValue(File)!.FullName);
            appDirectory = result.GetValue(AppDirectory)?.FullName ?? record.AppDirectory;
            if (appDirectory.Length == 0 || !Directory.Exists(appDirectory))
            {
                throw new InvalidDataException(appDirectory.Length == 0
                    ? "The file does not say where the job's assemblies are: give --app-dir."
                    : $"The job's application directory {appDirectory} does not exist here: give --app-dir with a copy of the build that failed.");
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"raygen replay: {e.Message}");
            return CouldNotRun;
        }

        Describe(console, record, appDirectory);
        if (result.GetValue(WaitForDebugger) && !await WaitForDebuggerAsync(console, cancellationToken))
        {
            return CouldNotRun;
        }

        using var logs = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var loader = new JobAssemblyLoader(appDirectory);
        var replayer = new CallReplayer(loader.EnsureLoaded, logs.CreateLogger("Ray.Replay"));
        var recorded = record.Error?.ExceptionType ?? string.Empty;
        try
        {
            replayer.Run(record, cancellationToken);
        }
        catch (ReplayUnavailableException e)
        {
            await Console.Error.WriteLineAsync($"raygen replay: {e.Message}");
            return CouldNotRun;
        }
        catch (Exception e)
        {
            var type = e.GetType().FullName ?? e.GetType().Name;
            var same = string.Equals(type, recorded, StringComparison.Ordinal);
            console.MarkupLine(same ? "[red]The call threw the recorded exception again:[/]" : "[yellow]The call threw another exception than the recorded one:[/]");
            console.WriteLine($"{type}: {e.Message}");
            console.WriteLine(e.StackTrace ?? string.Empty);
            return same ? Reproduced : ThrewOther;
        }

        console.MarkupLine($"[green]The call returned without an exception[/] (it threw {Markup.Escape(recorded)} when it failed).");
        return Returned;
    }

    private static void Describe(IAnsiConsole console, FailedCallRecord record, string appDirectory)
    {
        var failedAt = DateTimeOffset.FromUnixTimeMilliseconds(record.FailedAtUnixMs).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);
        Line(console, "call", record.FunctionName);
        if (record.ActorClass.Length > 0)
        {
            Line(console, "actor", $"{record.ActorClass}, made again by {record.ConstructorName}: the state of the actor that failed is not restored");
        }

        Line(console, "failed", $"{failedAt} on worker pid {record.Error?.WorkerPid}, node {record.NodeId}");
        Line(console, "threw", $"{record.Error?.ExceptionType}: {record.Error?.Message}");
        Line(console, "arguments", $"{record.Args.Count} ({string.Join(", ", record.Args.Select(a => ByteSize.Format(a.Length)))})");
        Line(console, "assemblies", appDirectory);
    }

    private static void Line(IAnsiConsole console, string label, string text) =>
        console.MarkupLine($"[bold]{label,-10}[/] {Markup.Escape(text)}");

    private static async Task<bool> WaitForDebuggerAsync(IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLine($"Waiting for a debugger to attach to process [bold]{Environment.ProcessId}[/] ({Markup.Escape(Environment.ProcessPath ?? "dotnet")}); Ctrl+C to give up.");
        try
        {
            while (!Debugger.IsAttached)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        console.MarkupLine("Debugger attached; running the call.");
        return true;
    }
}
