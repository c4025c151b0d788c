using System.Globalization;

namespace RayGen.Benchmarks;

/// <summary>
/// <c>--profile</c>: where the CPU of the driver and of each worker process goes while a phase runs, by thread
/// name (".NET TP Worker", ".NET Tiered Com", ...). Read from Linux's per-thread scheduler statistics
/// (<c>/proc/PID/task/TID/schedstat</c>: nanoseconds on a CPU, and how many times the thread was scheduled in),
/// so it costs nothing while the phase runs and needs no profiler. For where the time goes inside a thread, use
/// <c>perf</c> as docs/benchmarks.md describes.
/// </summary>
internal sealed class CpuProfile
{
    private readonly Dictionary<(string Phase, string Process, string Thread), (long Nanoseconds, long Slices)> _totals = [];
    private readonly Dictionary<string, double> _wallSeconds = [];

    /// <summary>Whether this machine exposes per-thread scheduler statistics.</summary>
    public static bool IsSupported => File.Exists($"/proc/{Environment.ProcessId}/schedstat");

    /// <summary>Takes a snapshot of every thread of the driver and of <paramref name="workers"/>.</summary>
    public static Snapshot Take(IReadOnlyCollection<int> workers)
    {
        var threads = new Dictionary<(int Pid, int Tid), ThreadSample>();
        Read(Environment.ProcessId, "driver", threads);
        var index = 0;
        foreach (var worker in workers.Order())
        {
            Read(worker, $"worker {index++}", threads);
        }

        return new Snapshot(threads, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>Adds what ran between <paramref name="before"/> and <paramref name="after"/> to <paramref name="phase"/>.</summary>
    public void Add(string phase, Snapshot before, Snapshot after)
    {
        foreach (var (key, end) in after.Threads)
        {
            var start = before.Threads.GetValueOrDefault(key);
            var nanoseconds = end.Nanoseconds - start.Nanoseconds;
            var slices = end.Slices - start.Slices;
            if (nanoseconds <= 0)
            {
                continue;
            }

            var total = (phase, end.Process, end.Name);
            var (n, s) = _totals.GetValueOrDefault(total);
            _totals[total] = (n + nanoseconds, s + slices);
        }

        _wallSeconds[phase] = _wallSeconds.GetValueOrDefault(phase) + System.Diagnostics.Stopwatch.GetElapsedTime(before.Timestamp, after.Timestamp).TotalSeconds;
    }

    /// <summary>Prints, per phase, CPU seconds by process and thread name, as a share of the phase's wall time.</summary>
    public void Write(TextWriter output)
    {
        foreach (var phase in _wallSeconds.Keys)
        {
            var wall = _wallSeconds[phase];
            var rows = _totals.Where(t => t.Key.Phase == phase).OrderBy(t => t.Key.Process, StringComparer.Ordinal).ThenByDescending(t => t.Value.Nanoseconds).ToList();
            var cpu = rows.Sum(r => r.Value.Nanoseconds) / 1e9;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile of '{phase}': {wall:0.000} s wall, {cpu:0.000} s CPU ({cpu / wall:0.00} cores busy of {Environment.ProcessorCount})"));
            output.WriteLine($"  {"process",-10} | {"thread",-24} | {"CPU s",8} | {"of wall",8} | {"runs",8}");
            foreach (var ((_, process, thread), (nanoseconds, slices)) in rows)
            {
                if (nanoseconds < wall * 1e9 * 0.002)
                {
                    continue;
                }

                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {process,-10} | {thread,-24} | {nanoseconds / 1e9,8:0.000} | {nanoseconds / 1e9 / wall,7:0.0%} | {slices,8}"));
            }

            foreach (var process in rows.Select(r => r.Key.Process).Distinct())
            {
                var sum = rows.Where(r => r.Key.Process == process).Sum(r => r.Value.Nanoseconds) / 1e9;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {process,-10} | {"(all threads)",-24} | {sum,8:0.000} | {sum / wall,7:0.0%} |"));
            }

            output.WriteLine();
        }
    }

    private static void Read(int pid, string process, Dictionary<(int, int), ThreadSample> threads)
    {
        string[] tids;
        try
        {
            tids = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        foreach (var directory in tids)
        {
            try
            {
                var tid = int.Parse(Path.GetFileName(directory), CultureInfo.InvariantCulture);
                var name = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                var fields = File.ReadAllText(Path.Combine(directory, "schedstat")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                threads[(pid, tid)] = new ThreadSample(process, name, long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[2], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>One thread's counters at one moment.</summary>
    internal readonly record struct ThreadSample(string Process, string Name, long Nanoseconds, long Slices);

    /// <summary>Every thread's counters at one moment.</summary>
    internal sealed record Snapshot(Dictionary<(int Pid, int Tid), ThreadSample> Threads, long Timestamp);
}
