// Usage: Ray.TestDriver (wait | dispose | store)
// Starts an embedded node, prints "workers: <pid> <pid> ...", "store: <directory of its shared memory>" and then
// either waits to be killed (wait; store, after putting a large object into the store) or disposes the runtime and
// prints "disposed". The misuse scenarios of Scenarios.cs run instead when MODE names one.
using Ray;

if (args.Length > 0 && await Scenarios.TryRunAsync(args[0]))
{
    return;
}

await using var ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 2 });
var answer = await DriverTasks.Remote.Echo(41);
var mode = args.Length > 0 ? args[0] : "wait";
ObjectRef<double[]>? stored = null;
if (mode == "store")
{
    stored = ray.Put(new double[1 << 20]);
    await DriverTasks.Remote.Length(stored);
}

Console.WriteLine($"workers: {string.Join(' ', ray.WorkerProcessIds)}");
Console.WriteLine($"store: {ray.GetObjectStoreStats().MemoryDirectory}");
Console.WriteLine($"echo: {answer}");
if (mode == "dispose")
{
    await ray.DisposeAsync();
    Console.WriteLine("disposed");
    return;
}

await Task.Delay(Timeout.Infinite);
GC.KeepAlive(stored);

public static partial class DriverTasks
{
    [Remote]
    public static int Echo(int value) => value + 1;

    [Remote]
    public static int Length(ArrayView<double> data) => data.Length;
}
