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
}

/// <summary>The seed's counter.</summary>
[Remote]
public partial class ClusterCounter
{
    private int _value;

    public ClusterCounter(int start) => _value = start;

    public int Add(int amount) => _value += amount;

    public int ProcessId() => Environment.ProcessId;
}
