using MemoryPack;

namespace Ray.Runtime.Tests;

/// <summary>Remote functions the runtime tests call; each runs in a real worker process.</summary>
public static partial class TestTasks
{
    [Remote]
    public static int Add(int x, int y) => x + y;

    [Remote]
    public static void Nothing()
    {
    }

    [Remote]
    public static async Task<string> Concat(string a, string b)
    {
        await Task.Yield();
        return a + b;
    }

    [Remote]
    public static int ProcessId() => Environment.ProcessId;

    /// <summary>Holds its CPU until the test releases it through <paramref name="gate"/> (see <see cref="Gate"/>); returns its number.</summary>
    [Remote]
    public static int Hold(string gate) => Gate.Enter(gate);

    [Remote(NumCpus = 2)]
    public static int HoldWholeNode(string gate) => Gate.Enter(gate);

    /// <summary>Leaves <paramref name="marker"/> behind if it ever runs.</summary>
    [Remote]
    public static int MarkIfRun(string marker)
    {
        File.WriteAllText(marker, "ran");
        return 1;
    }

    [Remote]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    [Remote]
    public static int SumReferences(List<ObjectRef<int>> references) => references.Sum(r => r.Get());

    [Remote]
    public static string DescribeReference(ObjectRef<int> reference) => reference.Id.ToString();

    /// <summary>A binary tree of nested tasks, each parent blocking in <c>Get</c> on its children.</summary>
    [Remote]
    public static int CountLeaves(int depth)
    {
        if (depth == 0)
        {
            return 1;
        }

        var left = Remote.CountLeaves(depth - 1);
        var right = Remote.CountLeaves(depth - 1);
        return left.Get() + right.Get();
    }

    /// <summary>The same tree with <c>await</c> instead of blocking.</summary>
    [Remote]
    public static async Task<int> CountLeavesAsync(int depth)
    {
        if (depth == 0)
        {
            return 1;
        }

        var left = Remote.CountLeavesAsync(depth - 1);
        var right = Remote.CountLeavesAsync(depth - 1);
        return await left + await right;
    }

    [Remote]
    public static async Task<int> WaitForCancellation(string startedMarker, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(startedMarker, "started", CancellationToken.None);
        await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        return 0;
    }

    [Remote]
    public static int ExitProcess(int exitCode)
    {
        Environment.Exit(exitCode);
        return 0;
    }

    /// <summary>Kills its worker on the first attempt only, leaving a marker so the retry succeeds.</summary>
    [Remote]
    public static int DieOnFirstAttempt(string marker)
    {
        if (!File.Exists(marker))
        {
            File.WriteAllText(marker, Environment.ProcessId.ToString());
            Environment.Exit(13);
        }

        return Environment.ProcessId;
    }

    [Remote]
    public static int ReportPidThenSleep(string pidFile)
    {
        File.WriteAllText(pidFile, Environment.ProcessId.ToString());
        Thread.Sleep(TimeSpan.FromSeconds(60));
        return 0;
    }

    [Remote]
    public static string Print(string line)
    {
        Console.WriteLine(line);
        return line;
    }

    /// <summary>
    /// Records each attempt as a file in <paramref name="attempts"/> and throws on the first <paramref name="failures"/>
    /// of them; returns the number of the attempt that succeeded.
    /// </summary>
    [Remote]
    public static int FailTimes(string attempts, int failures)
    {
        var attempt = Directory.GetFiles(attempts).Length + 1;
        File.WriteAllText(Path.Combine(attempts, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)), string.Empty);
        return attempt <= failures ? throw new InvalidOperationException($"attempt {attempt} fails") : attempt;
    }

    /// <summary><see cref="FailTimes"/> with retries of exceptions on by default.</summary>
    [Remote(MaxRetries = 2, RetryExceptions = true)]
    public static int FailTimesRetried(string attempts, int failures) => FailTimes(attempts, failures);

    [Remote]
    public static Unwritable MakeUnwritable() => new();

    [Remote]
    public static ObjectRef<int> PutInside(int value) => RayRuntime.Current.Put(value);

    [Remote]
    public static int SumOfSquares(Point[] points) => points.Sum(p => (p.X * p.X) + (p.Y * p.Y));
}

/// <summary>A user type crossing the process boundary.</summary>
[MemoryPackable]
public partial record Point(int X, int Y);

/// <summary>A serializable type whose value cannot be read, so that writing it fails at run time.</summary>
[MemoryPackable]
public partial class Unwritable
{
    public int Value
    {
        get => throw new InvalidOperationException("this value cannot be read");
        set => _ = value;
    }
}
