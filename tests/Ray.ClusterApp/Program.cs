// Usage: Ray.ClusterApp MODE [ADDRESS]
// A driver of a running cluster, built twice with different code (Ray.ClusterApp.V1, .V2: the same assembly name), so
// that the tests can run two builds side by side and kill a driver that holds work. ADDRESS becomes RayOptions.Address
// (such as "auto"); without it RAYGEN_ADDRESS names the cluster. The token comes from RAYGEN_AUTH_TOKEN or the token file.
//   version  prints "version: <what the remote function of this build returns>" and "node: <the node it ran on>"
//   hold     starts an actor, a task that runs until killed and a large object, prints "holding", and waits to be killed
//   busy     submits three one-CPU tasks that run until killed, prints "submitted", and waits to be killed
//   objects  prints "other jobs' objects: N", the objects of other jobs its node holds
//   after-dispose  disposes the runtime with work in flight and prints what each later call does (AfterDispose.cs)
using Ray;

await using var ray = await RayRuntime.InitAsync(new RayOptions { Address = args.Length > 1 ? args[1] : null });
var mode = args.Length > 0 ? args[0] : "version";
switch (mode)
{
    case "version":
        Console.WriteLine($"version: {await ClusterAppTasks.Remote.Version()}");
        Console.WriteLine($"node: {await ClusterAppTasks.Remote.Node()}");
        break;
    case "hold":
        var actor = Holder.Remote();
        var pid = await actor.ProcessId();
        var running = ClusterAppTasks.Remote.RunUntilKilled();
        var large = ray.Put(new double[1 << 18]);
        Console.WriteLine($"actor pid: {pid}");
        Console.WriteLine($"large: {large.Id}");
        Console.WriteLine("holding");
        await Task.Delay(Timeout.Infinite);
        GC.KeepAlive(running);
        break;
    case "busy":
        var tasks = Enumerable.Range(0, 3).Select(_ => ClusterAppTasks.Remote.RunUntilKilled()).ToArray();

        // And an actor that needs a CPU too: it waits for room as well.
        var waiting = Holder.WithOptions(new ActorOptions { NumCpus = 1 }).Remote();
        Console.WriteLine("submitted");
        await Task.Delay(Timeout.Infinite);
        GC.KeepAlive(tasks);
        GC.KeepAlive(waiting);
        break;
    case "objects":
        var mine = ray.Put(0).Id.Job;
        Console.WriteLine($"other jobs' objects: {ray.ListObjects().Count(o => o.Id.Job != mine)}");
        break;
    case "after-dispose":
        await AfterDispose.RunAsync(ray);
        break;
}

public static partial class ClusterAppTasks
{
    [Remote]
    public static string Version() => ClusterAppBuild.Name;

    [Remote]
    public static string Node() => RayRuntime.Current.NodeId;

    [Remote]
    public static int RunUntilKilled()
    {
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}

[Remote]
public partial class Holder
{
    public int ProcessId() => Environment.ProcessId;
}
