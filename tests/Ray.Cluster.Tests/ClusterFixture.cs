using System.Text;
using Xunit;

// Each collection runs a cluster of real processes on this machine; one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Ray.Cluster.Tests;

/// <summary>A cluster of one head node and this test process as its driver (connected through the head's socket).</summary>
public sealed class HeadClusterFixture : IAsyncLifetime
{
    private readonly CapturingWriter _output = new();
    private readonly CapturingWriter _errors = new();

    internal TestCluster Cluster { get; private set; } = null!;

    public RayRuntime Ray { get; private set; } = null!;

    /// <summary>What the cluster's workers printed to stdout, as the driver received it.</summary>
    public string WorkerOutput => _output.Text;

    public async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartAsync(headCpus: 2);
        Ray = await RayRuntime.InitAsync(new RayOptions
        {
            Address = Cluster.HeadAddress,
            AuthToken = Cluster.Token,
            WorkerOutput = _output,
            WorkerErrorOutput = _errors,
        }).WaitAsync(NodeProcess.Timeout);
    }

    public async Task DisposeAsync()
    {
        if (Ray is not null)
        {
            await Ray.DisposeAsync().AsTask().WaitAsync(NodeProcess.Timeout);
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync().AsTask().WaitAsync(NodeProcess.Timeout);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class HeadClusterCollection : ICollectionFixture<HeadClusterFixture>
{
    public const string Name = "head cluster";
}

/// <summary>
/// Three nodes, one CPU each: the head on 127.0.0.1, and nodes on 127.0.0.2 and 127.0.0.3 (the last one offers a custom
/// resource, "special"), with this test process as the driver.
/// </summary>
public sealed class ThreeNodeClusterFixture : IAsyncLifetime
{
    private readonly CapturingWriter _output = new();

    internal TestCluster Cluster { get; private set; } = null!;

    public RayRuntime Ray { get; private set; } = null!;

    public string WorkerOutput => _output.Text;

    public async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartAsync(headCpus: 1);
        await Cluster.AddNodeAsync("127.0.0.2", 1);
        await Cluster.AddNodeAsync("127.0.0.3", 1, "--resources", "{\"special\": 2}");
        Ray = await RayRuntime.InitAsync(new RayOptions { Address = Cluster.HeadAddress, AuthToken = Cluster.Token, WorkerOutput = _output })
            .WaitAsync(NodeProcess.Timeout);

        // Every node is in the driver's view before the tests place work.
        var deadline = DateTime.UtcNow + NodeProcess.Timeout;
        while ((await Ray.GetNodesAsync()).Count(n => n.IsAlive) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "Not every node joined the cluster.");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        if (Ray is not null)
        {
            await Ray.DisposeAsync().AsTask().WaitAsync(NodeProcess.Timeout);
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync().AsTask().WaitAsync(NodeProcess.Timeout);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ThreeNodeClusterCollection : ICollectionFixture<ThreeNodeClusterFixture>
{
    public const string Name = "three nodes";
}

/// <summary>Collects what is written to it, line by line, for assertions.</summary>
internal sealed class CapturingWriter : TextWriter
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
    }
}
