namespace Ray.Runtime.Tests;

/// <summary>Remote code for the isolation, cancellation and output tests: each signals through marker files.</summary>
public static partial class CallControlTasks
{
    /// <summary>Runs until its marker is deleted, never looking at a cancellation token.</summary>
    [Remote(MaxRetries = 0)]
    public static int SpinIgnoringCancellation(string startedMarker)
    {
        File.WriteAllText(startedMarker, Environment.ProcessId.ToString());
        while (File.Exists(startedMarker))
        {
            Thread.Sleep(10);
        }

        return 1;
    }

    /// <summary>Waits for <paramref name="release"/> to exist, after saying it started.</summary>
    [Remote]
    public static int WaitForFile(string startedMarker, string release)
    {
        File.WriteAllText(startedMarker, Environment.ProcessId.ToString());
        while (!File.Exists(release))
        {
            Thread.Sleep(10);
        }

        return 2;
    }

    [Remote]
    public static void NoValue(string release)
    {
        while (!File.Exists(release))
        {
            Thread.Sleep(10);
        }
    }

    [Remote]
    public static void WriteToStderr(string line) => Console.Error.WriteLine(line);

    /// <summary>Prints a line without its newline and returns: the runtime must end the line for it.</summary>
    [Remote]
    public static void WritePartial(string text) => Console.Write(text);
}

/// <summary>An actor whose calls can be held and cancelled.</summary>
[Remote]
public partial class GatedActor
{
    public int ProcessId() => Environment.ProcessId;

    /// <summary>Says it started, then waits for its token.</summary>
    public async Task<int> WaitForCancellationAsync(string startedMarker, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(startedMarker, "started", CancellationToken.None);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    /// <summary>Holds the actor (MaxConcurrency 1) until <paramref name="release"/> exists.</summary>
    public int Hold(string startedMarker, string release)
    {
        File.WriteAllText(startedMarker, "started");
        while (!File.Exists(release))
        {
            Thread.Sleep(10);
        }

        return 1;
    }

    public int Next() => 2;
}
