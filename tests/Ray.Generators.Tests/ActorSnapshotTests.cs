using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// The generated source of each supported actor shape, compared with committed baselines under Snapshots/. Every
/// case must also compile with no error and no warning.
/// </summary>
public sealed class ActorSnapshotTests
{
    [Fact]
    public void ActorCounter() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial class Counter
            {
                private int _value;

                public Counter(int start) => _value = start;

                public void Inc() => _value++;

                public int GetValue() => _value;

                public async Task<int> AddAsync(int x, CancellationToken ct)
                {
                    await Task.Delay(1, ct);
                    return _value += x;
                }
            }
        }
        """);

    [Fact]
    public void ActorSeveralConstructors() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial class Account
            {
                public Account() : this("anonymous") { }

                public Account(string owner, decimal balance = 10m, string? note = null) { }

                public Account(string owner, params string[] tags) : this(owner) { }

                internal Account(int id) : this(id.ToString()) { }

                protected internal Account(long id) : this(id.ToString()) { }

                private Account(double ignored) : this("private") { }

                protected Account(bool ignored) : this("protected") { }

                public string Owner() => "";
            }
        }
        """);

    [Fact]
    public void ActorReturnKinds() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial class Worker
            {
                public void Reset() { }

                public Task FlushAsync() => Task.CompletedTask;

                public ValueTask PingAsync() => default;

                public Task<string> EchoAsync(string text) => Task.FromResult(text);

                public ValueTask<double[]> SampleAsync(int count) => new(new double[count]);

                public List<int?> Values(Dictionary<string, int[]> map) => new();

                public string? Find(string? key) => key;
            }
        }
        """);

    [Fact]
    public void ActorCancellationToken() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial class Downloader
            {
                public Downloader(string url, CancellationToken ct, int retries) { }

                public async Task<int> DownloadAsync(CancellationToken ct, int chunk = 4)
                {
                    await Task.Delay(1, ct);
                    return chunk;
                }

                public bool IsCancelled(CancellationToken ct) => ct.IsCancellationRequested;
            }
        }
        """);

    [Fact]
    public void ActorArrayViewParameters() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial class Histogram
            {
                private readonly double[] _edges;
                private readonly long[] _counts;

                public Histogram(ArrayView<double> edges, string name)
                {
                    _edges = edges.ToArray();
                    _counts = new long[_edges.Length];
                }

                public void Add(ArrayView<double> samples, CancellationToken ct)
                {
                    foreach (var sample in samples)
                    {
                        var bin = Array.BinarySearch(_edges, sample);
                        _counts[bin < 0 ? Math.Max(0, ~bin - 1) : bin]++;
                    }
                }

                public long Count(int bin, ArrayView<int> weights) => _counts[bin] * weights[bin];
            }
        }
        """);

    [Fact]
    public void ActorNestedInBlockNamespace() => Verify("""
        namespace MyApp.Physics
        {
            public partial class Outer
            {
                [Remote]
                internal partial class Simulation
                {
                    public Simulation(int particles) { }

                    public double Step(double dt) => dt;
                }
            }
        }
        """);

    [Fact]
    public void ActorInGlobalNamespaceWithImplicitConstructor() => Verify("""
        [Remote]
        public partial class Cache
        {
            private readonly Dictionary<string, string> _items = new();

            public void Set(string key, string value) => _items[key] = value;

            public string? Get(string key) => _items.TryGetValue(key, out var value) ? value : null;
        }
        """);

    [Fact]
    public void ActorAttributeOptions() => Verify("""
        namespace MyApp
        {
            [Remote(NumCpus = 0.5, MaxRestarts = 2, MaxTaskRetries = 1, MaxConcurrency = 4, DedicatedProcess = true)]
            public partial class Trainer
            {
                public int Train(int epochs) => epochs;
            }

            [Remote(MaxRestarts = -1)]
            internal partial class Forever
            {
                public void Run() { }
            }
        }
        """);

    [Fact]
    public void ActorXmlDocs() => Verify("""
        namespace MyApp
        {
            /// <summary>Counts things.</summary>
            [Remote]
            public partial class Counter
            {
                private int _value;

                /// <summary>Creates a counter.</summary>
                /// <param name="start">The first value.</param>
                public Counter(int start) => _value = start;

                /// <summary>Adds to the counter.</summary>
                /// <param name="x">How much.</param>
                /// <returns>The new value.</returns>
                public int Add(int x) => _value += x;
            }
        }
        """);

    [Fact]
    public void ActorRecord() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial record Account(string Owner)
            {
                private decimal _balance;

                public decimal Balance => _balance;

                public decimal Deposit(decimal amount) => _balance += amount;

                public override string ToString() => Owner;

                public static Account Create(string owner) => new(owner);
            }
        }
        """);

    [Fact]
    public void ActorOverloadsAndObsoleteMembers() => Verify("""
        namespace MyApp
        {
            [Remote]
            public partial class Calculator
            {
                [Obsolete("Use the other constructor.")]
                public Calculator(string mode) { }

                public Calculator() { }

                public int Add(int x, int y) => x + y;

                public int Add(int x, int y, int z) => x + y + z;

                public string Add(string x, string y) => x + y;

                [Obsolete("Use Add.")]
                public int Plus(int x, int y) => x + y;

                public int Handle(int handle) => handle;
            }
        }
        """);

    [Fact]
    public void ActorStreamingMethods() => Verify("""
        using System.Runtime.CompilerServices;

        namespace MyApp
        {
            [Remote]
            public partial class Mailbox
            {
                private readonly List<string> _messages = new();

                public void Send(string message) => _messages.Add(message);

                /// <summary>The messages from <paramref name="start"/> on, as they arrive.</summary>
                public async IAsyncEnumerable<string> Listen(int start, [EnumeratorCancellation] CancellationToken ct)
                {
                    for (var i = start; !ct.IsCancellationRequested; i++)
                    {
                        while (i >= _messages.Count)
                        {
                            await Task.Delay(10, ct);
                        }

                        yield return _messages[i];
                    }
                }

                [Remote(Streaming = true, GeneratorBackpressureNumObjects = 2)]
                public IEnumerable<string> Snapshot() => _messages.ToArray();
            }
        }
        """);

    private static void Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string testName = "")
        => Snapshot.Verify(GeneratorRun.Of(source).AssertCleanBuild(), testName);
}
