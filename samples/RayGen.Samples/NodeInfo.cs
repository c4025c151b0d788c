using System.Globalization;
using Ray;

namespace RayGen.Samples;

/// <summary>What the samples say about the node they run on, so that timings can be read against it.</summary>
public static class NodeInfo
{
    /// <summary>The CPUs the node offers to tasks (one task of <c>NumCpus = 1</c> runs per CPU at a time).</summary>
    public static int Cpus => (int)RayRuntime.Current.ClusterResources.GetValueOrDefault("CPU", Environment.ProcessorCount);

    /// <summary>A sentence such as "2 CPUs, 2 worker processes, machine has 2 cores".</summary>
    public static string Describe()
    {
        var ray = RayRuntime.Current;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Cpus} CPU{(Cpus == 1 ? "" : "s")} for tasks, {ray.WorkerProcessIds.Count} worker processes (this machine has {Environment.ProcessorCount} cores)");
    }

    /// <summary>Seconds with three decimals, culture-independent.</summary>
    public static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    /// <summary>Seconds with three decimals, culture-independent.</summary>
    public static string Seconds(double seconds) => seconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";
}
