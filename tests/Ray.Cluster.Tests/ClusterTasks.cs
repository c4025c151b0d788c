namespace Ray.Cluster.Tests;

/// <summary>Remote functions the cluster tests run on the nodes.</summary>
public static partial class ClusterTasks
{
    [Remote]
    public static int Add(int x, int y) => x + y;

    [Remote]
    public static int ProcessId() => Environment.ProcessId;

    [Remote]
    public static string NodeId() => RayRuntime.Current.NodeId;

    [Remote]
    public static string Print(string line)
    {
        Console.WriteLine(line);
        return line;
    }

    [Remote]
    public static async Task<string[]> NodesSeenInside()
    {
        var nodes = await RayRuntime.Current.GetNodesAsync();
        return nodes.Select(n => n.NodeId).ToArray();
    }

    [Remote]
    public static double CpusSeenInside() => RayRuntime.Current.ClusterResources["CPU"];

    [Remote]
    public static double Sum(double[] values) => values.Sum();

    /// <summary>Holds its CPU until <paramref name="release"/> exists, after saying where it runs.</summary>
    [Remote]
    public static string HoldThenNode(string startedDirectory, string release)
    {
        File.WriteAllText(Path.Combine(startedDirectory, Guid.NewGuid().ToString("n")), RayRuntime.Current.NodeId);
        while (!File.Exists(release))
        {
            Thread.Sleep(10);
        }

        return RayRuntime.Current.NodeId;
    }

    /// <summary>A tree of tasks, each parent blocking on its children wherever they run.</summary>
    [Remote]
    public static int Leaves(int depth)
    {
        if (depth == 0)
        {
            return 1;
        }

        var spread = Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread });
        var left = spread.Leaves(depth - 1);
        var right = spread.Leaves(depth - 1);
        return left.Get() + right.Get();
    }

    /// <summary>Reads references it received inside its argument (they stay references: only top-level ones are resolved).</summary>
    [Remote]
    public static int SumOfReferences(List<ObjectRef<int>> references) => references.Sum(r => r.Get());

    [Remote]
    public static ObjectRef<int> PutOnNode(int value) => RayRuntime.Current.Put(value);

    /// <summary>The process that last ran <see cref="Checked"/>, in this process (0 until a replay runs it here).</summary>
    public static int LastCheckedProcessId { get; set; }

    /// <summary>Returns the node it ran on, unless the value is negative.</summary>
    [Remote(MaxRetries = 0)]
    public static string Checked(int value)
    {
        LastCheckedProcessId = Environment.ProcessId;
        return value < 0 ? throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} is negative") : RayRuntime.Current.NodeId;
    }
}

/// <summary>The seed's counter.</summary>
[Remote]
public partial class ClusterCounter
{
    private int _value;

    public ClusterCounter(int start) => _value = start;

    public int Add(int amount) => _value += amount;

    public int ProcessId() => Environment.ProcessId;

    public string NodeId() => RayRuntime.Current.NodeId;

    public int Get() => _value;

    public int Take(int amount) => amount > _value ? throw new InvalidOperationException($"cannot take {amount} of {_value}") : _value -= amount;
}

public static partial class ClusterActorTasks
{
    /// <summary>Calls an actor through a handle it received, from whatever node it runs on.</summary>
    [Remote]
    public static int AddFrom(ActorHandle<ClusterCounter> counter, int times)
    {
        for (var i = 0; i < times; i++)
        {
            counter.Add(1);
        }

        return counter.Get().Get();
    }

    /// <summary>Finds a named actor from wherever the task runs.</summary>
    [Remote]
    public static async Task<int> AddToNamed(string name, int amount) => await RayRuntime.Current.GetActor<ClusterCounter>(name).Add(amount);

    [Remote]
    public static void KillNamed(string name) => RayRuntime.Current.Kill(RayRuntime.Current.GetActor<ClusterCounter>(name));
}

/// <summary>Tasks for the node-death tests.</summary>
public static partial class NodeDeathTasks
{
    /// <summary>Whether the task's node sees <paramref name="nodeId"/> as dead, and why.</summary>
    [Remote]
    public static async Task<string> DeathSeenInside(string nodeId)
    {
        var node = (await RayRuntime.Current.GetNodesAsync()).Single(n => n.NodeId == nodeId);
        return node.IsAlive ? string.Empty : node.DeathReason;
    }

    /// <summary>Submits a held task to this task's own node and returns its reference, which this node owns.</summary>
    [Remote]
    public static ObjectRef<string> HoldHere(string startedDirectory, string release) =>
        ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(RayRuntime.Current.NodeId) })
            .HoldThenNode(startedDirectory, release);
}

/// <summary>Tasks for the tests of objects that move between nodes.</summary>
public static partial class ObjectTasks
{
    /// <summary>Bytes that depend on <paramref name="seed"/> and on their position, so a misplaced chunk shows.</summary>
    public static byte[] Pattern(int size, int seed)
    {
        var bytes = new byte[size];
        var state = (uint)seed * 2654435761u + 1;
        for (var i = 0; i < bytes.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes[i] = (byte)state;
        }

        return bytes;
    }

    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));

    [Remote]
    public static byte[] Make(int size, int seed) => Pattern(size, seed);

    /// <summary>The hash of the value, the hash of a view of the same object, and the node that read them.</summary>
    [Remote]
    public static string[] HashHere(byte[] value, ObjectRef<byte[]> same)
    {
        using var view = same.GetView();
        return [Hash(value), Hash(view.Span), RayRuntime.Current.NodeId];
    }

    /// <summary>
    /// Takes a reference and does not read it. The reference stays in this worker until its garbage collector runs,
    /// and nothing here makes it run: the worker allocates little and never saw the object's bytes.
    /// </summary>
    [Remote]
    public static string Borrow(ObjectRef<byte[]> data) => data.Id.ToString();

    /// <summary>The shared memory in use on this task's node.</summary>
    [Remote]
    public static long UsedHere() => RayRuntime.Current.GetObjectStoreStats().UsedBytes;

    /// <summary>The shared memory in use on this task's node while it holds <paramref name="value"/>.</summary>
    [Remote]
    public static long UsedWhileHolding(byte[] value)
    {
        GC.KeepAlive(value);
        return RayRuntime.Current.GetObjectStoreStats().UsedBytes;
    }
}
