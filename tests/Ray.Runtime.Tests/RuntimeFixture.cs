using System.Text;
using Ray.Raylet;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Ray.Runtime.Tests;

/// <summary>One embedded node for the whole assembly: a process can host one runtime at a time.</summary>
public sealed class RuntimeFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly CapturingWriter _output = new();
    private readonly CapturingWriter _errors = new();

    public RayRuntime Ray { get; private set; } = null!;

    /// <summary>Every line worker processes printed to stdout so far.</summary>
    public string WorkerOutput => _output.Text;

    /// <summary>Every line worker processes printed to stderr so far.</summary>
    public string WorkerErrors => _errors.Text;

    public async Task InitializeAsync() =>
        Ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 2, WorkerOutput = _output, WorkerErrorOutput = _errors }).WaitAsync(Timeout);

    public async Task DisposeAsync() => await Ray.DisposeAsync().AsTask().WaitAsync(Timeout);

    /// <summary>
    /// After the task worker <paramref name="replaced"/> died: waits until the pool has registered a replacement (a started
    /// process is not yet a worker), then holds one task per worker at once and checks that they ran on exactly the
    /// registered task workers, so the replacement took one.
    /// </summary>
    public async Task AssertThePoolServesAgainAsync(int replaced)
    {
        var pool = Ray.Node!.Pool;
        var deadline = DateTime.UtcNow + Timeout;
        int[] workers;
        while ((workers = [.. pool.Registered.Where(w => w.Kind == WorkerKind.Task).Select(w => w.ProcessId)]).Length < pool.Size)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Only {workers.Length} of {pool.Size} workers were registered {Timeout.TotalSeconds} s after pid {replaced} died.");
            await Task.Delay(20);
        }

        Assert.DoesNotContain(replaced, workers);
        using var gate = new Gate();
        var tasks = workers.Select(_ => TestTasks.Remote.Hold(gate.Path)).ToList();
        await gate.WaitForStartedAsync(tasks.Count);
        Assert.Equal(workers.Order(), gate.ProcessIds.Order());
        gate.ReleaseAll(tasks.Count);
        await Ray.GetAsync(tasks).WaitAsync(Timeout);
    }

    private sealed class CapturingWriter : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_text)
            {
                _text.AppendLine(value);
            }

            Console.Out.WriteLine(value);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RuntimeCollection : ICollectionFixture<RuntimeFixture>
{
    public const string Name = "runtime";
}
