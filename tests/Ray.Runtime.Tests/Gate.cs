using IOPath = System.IO.Path;

namespace Ray.Runtime.Tests;

/// <summary>
/// A directory through which tasks tell a test that they run, and wait for the test to let them finish. A task that
/// enters claims the next free number k (1, 2, ... in the order tasks entered; never the same k twice) by creating
/// <c>started-k</c>, holding its process id, and then waits for the test to create <c>release-k</c>. A test learns
/// what ran at once from these files instead of from sleeps that happen to overlap.
/// </summary>
internal sealed class Gate : IDisposable
{
    /// <summary>How long a task waits to be released before it gives up and fails.</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    public Gate() => Path = Directory.CreateTempSubdirectory("raygen-gate-").FullName;

    public string Path { get; }

    /// <summary>How many tasks have entered so far.</summary>
    public int Started => Directory.GetFiles(Path, "started-*").Length;

    /// <summary>The process ids of the tasks that entered, by their number.</summary>
    public IReadOnlyList<int> ProcessIds =>
        [.. Enumerable.Range(1, Started).Select(k => int.Parse(File.ReadAllText(IOPath.Combine(Path, $"started-{k}"))))];

    /// <summary>Enters <paramref name="gate"/> and blocks until the test releases this task; returns the task's number.</summary>
    public static int Enter(string gate)
    {
        var number = Claim(gate);
        var release = IOPath.Combine(gate, $"release-{number}");
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!File.Exists(release))
        {
            ThrowIfLate(deadline, release);
            Thread.Sleep(5);
        }

        return number;
    }

    /// <summary>As <see cref="Enter"/>, without blocking a thread while it waits.</summary>
    public static async Task<int> EnterAsync(string gate)
    {
        var number = Claim(gate);
        var release = IOPath.Combine(gate, $"release-{number}");
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!File.Exists(release))
        {
            ThrowIfLate(deadline, release);
            await Task.Delay(5);
        }

        return number;
    }

    /// <summary>Waits until at least <paramref name="count"/> tasks have entered.</summary>
    /// <exception cref="TimeoutException">They did not within the wait limit.</exception>
    public async Task WaitForStartedAsync(int count)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (Started < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Only {Started} of {count} tasks entered {Path} within {WaitLimit.TotalSeconds} s.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Lets the task with <paramref name="number"/> finish (now, or as soon as it enters).</summary>
    public void Release(int number) => File.WriteAllText(IOPath.Combine(Path, $"release-{number}"), string.Empty);

    /// <summary>Lets tasks 1 to <paramref name="count"/> finish.</summary>
    public void ReleaseAll(int count)
    {
        for (var number = 1; number <= count; number++)
        {
            Release(number);
        }
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    /// <summary>
    /// Takes the lowest free number by creating <c>claim-k</c>, which fails if it exists (File.Move does not guarantee
    /// that), then makes <c>started-k</c> appear whole: written aside and moved to the name that is now its alone.
    /// </summary>
    private static int Claim(string gate)
    {
        var number = 1;
        while (true)
        {
            try
            {
                using (new FileStream(IOPath.Combine(gate, $"claim-{number}"), FileMode.CreateNew))
                {
                }

                break;
            }
            catch (IOException) when (File.Exists(IOPath.Combine(gate, $"claim-{number}")))
            {
                // Taken by a task that entered earlier.
                number++;
            }
        }

        var written = IOPath.Combine(gate, $"entering-{number}");
        File.WriteAllText(written, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(written, IOPath.Combine(gate, $"started-{number}"));
        return number;
    }

    private static void ThrowIfLate(DateTime deadline, string release)
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"{release} was not created within {WaitLimit.TotalSeconds} s.");
        }
    }
}
