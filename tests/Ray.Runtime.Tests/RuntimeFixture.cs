using System.Text;
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

    public async Task DisposeAsync() => await Ray.DisposeAsync();

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
