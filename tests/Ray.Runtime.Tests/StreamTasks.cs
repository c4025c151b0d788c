using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ray.Runtime.Tests;

/// <summary>
/// Streaming generators for the streaming tests. They tell the test what they do through marker files in a directory the
/// test owns (<see cref="StreamMarkers"/>), and wait for the test's markers, instead of relying on timing.
/// </summary>
public static partial class StreamTasks
{
    [Remote]
    public static async IAsyncEnumerable<int> Numbers(int count, [EnumeratorCancellation] CancellationToken ct = default)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }

    /// <summary>Yields item 0, then waits for the reader's marker <c>read-1</c> before the rest: items reach the reader while it runs.</summary>
    [Remote]
    public static async IAsyncEnumerable<string> WaitsForTheReader(string markers, [EnumeratorCancellation] CancellationToken ct = default)
    {
        yield return "first";
        StreamMarkers.Write(markers, "waiting", "1");
        await StreamMarkers.WaitForAsync(markers, "read-1", ct);
        yield return "second";
        yield return "third";
    }

    /// <summary>Items too large to travel inline: each goes through the node's shared-memory store.</summary>
    [Remote]
    public static async IAsyncEnumerable<double[]> LargeItems(int count, int length)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return Enumerable.Repeat((double)i, length).ToArray();
        }
    }

    /// <summary>Records how many items it has yielded before each yield returns to it: the backpressure test reads the record.</summary>
    [Remote(GeneratorBackpressureNumObjects = 2)]
    public static async IAsyncEnumerable<int> Counted(string markers, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            StreamMarkers.Write(markers, "yielded", (i + 1).ToString(CultureInfo.InvariantCulture));
            yield return i;
        }
    }

    /// <summary>Yields until it is cancelled, which its token tells it; says so in <c>cancelled</c> when it stops.</summary>
    [Remote]
    public static async IAsyncEnumerable<int> UntilCancelled(string markers, [EnumeratorCancellation] CancellationToken ct = default)
    {
        try
        {
            for (var i = 0; ; i++)
            {
                await Task.Delay(5, CancellationToken.None);
                yield return i;
            }
        }
        finally
        {
            StreamMarkers.Write(markers, "cancelled", ct.IsCancellationRequested ? "token" : "no token");
        }
    }

    /// <summary>Never looks at its token: the runtime stops it at its next item.</summary>
    [Remote(Streaming = true)]
    public static IEnumerable<int> IgnoresItsToken()
    {
        for (var i = 0; ; i++)
        {
            Thread.Sleep(5);
            yield return i;
        }
    }

    /// <summary>Yields <paramref name="items"/> items, then throws.</summary>
    [Remote(MaxRetries = 0)]
    public static async IAsyncEnumerable<int> FailsAfter(int items)
    {
        for (var i = 0; i < items; i++)
        {
            await Task.Yield();
            yield return i;
        }

        throw new InvalidOperationException($"boom after {items} items");
    }

    /// <summary>
    /// Yields 0 to <paramref name="count"/> - 1 and records each attempt's process id. On its first attempt it waits for
    /// the reader's <c>read-3</c> after item 2 and then ends its process; the retry goes on from item 3.
    /// </summary>
    [Remote(MaxRetries = 1)]
    public static async IAsyncEnumerable<int> DiesOnce(string markers, int count)
    {
        var retry = File.Exists(Path.Combine(markers, "died"));
        StreamMarkers.Write(markers, retry ? "attempt-2" : "attempt-1", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < count; i++)
        {
            if (i == 3 && !retry)
            {
                await StreamMarkers.WaitForAsync(markers, "read-3", CancellationToken.None);
                StreamMarkers.Write(markers, "died", "1");
                Environment.Exit(9);
            }

            yield return i;
        }
    }

    /// <summary>Reads a stream made elsewhere, in a worker: its items' sum.</summary>
    [Remote]
    public static async Task<long> Sum(ObjectRefStream<int> numbers)
    {
        long sum = 0;
        await foreach (var number in numbers.ReadAllAsync())
        {
            sum += number;
        }

        return sum;
    }

    /// <summary>Reads a stream of large items in a worker: the sum of all their elements.</summary>
    [Remote]
    public static async Task<double> SumLarge(ObjectRefStream<double[]> items)
    {
        var sum = 0.0;
        await foreach (var item in items.ReadAllAsync())
        {
            sum += item.Sum();
        }

        return sum;
    }

    [Remote]
    public static int Square(int x) => x * x;
}

/// <summary>An actor whose methods stream: one writes messages, another reads them back as a stream.</summary>
[Remote]
public partial class Journal
{
    private readonly List<string> _entries = [];

    public void Write(string entry) => _entries.Add(entry);

    /// <summary>The entries written so far, one item each.</summary>
    public async IAsyncEnumerable<string> Entries([EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var entry in _entries.ToArray())
        {
            await Task.Yield();
            yield return entry;
        }
    }

    /// <summary>The lengths of the entries, as an iterator that streams.</summary>
    [Remote(Streaming = true, GeneratorBackpressureNumObjects = 1)]
    public IEnumerable<int> Lengths() => _entries.Select(entry => entry.Length).ToArray();

    public int Count() => _entries.Count;
}

/// <summary>Marker files through which streaming tasks and the tests that read them tell each other where they are.</summary>
public static class StreamMarkers
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    /// <summary>Writes marker <paramref name="name"/> whole: aside first, then moved to its name.</summary>
    public static void Write(string directory, string name, string content)
    {
        var aside = Path.Combine(directory, $"{name}.{Guid.NewGuid():n}.tmp");
        File.WriteAllText(aside, content);
        File.Move(aside, Path.Combine(directory, name), overwrite: true);
    }

    /// <summary>The content of marker <paramref name="name"/>, or null when it does not exist.</summary>
    public static string? Read(string directory, string name)
    {
        try
        {
            return File.ReadAllText(Path.Combine(directory, name));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Waits until marker <paramref name="name"/> exists; throws <see cref="TimeoutException"/> after a minute.</summary>
    public static async Task WaitForAsync(string directory, string name, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!File.Exists(Path.Combine(directory, name)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Marker {name} did not appear in {directory} within {WaitLimit.TotalSeconds} s.");
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
