// Usage: Ray.TestDriver (wait | dispose)
// Starts an embedded node, prints "workers: <pid> <pid> ..." and then either waits to be killed or
// disposes the runtime and prints "disposed".
using Ray;

await using var ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 2 });
var answer = await DriverTasks.Remote.Echo(41);
Console.WriteLine($"workers: {string.Join(' ', ray.WorkerProcessIds)}");
Console.WriteLine($"echo: {answer}");
if (args.Length > 0 && args[0] == "dispose")
{
    await ray.DisposeAsync();
    Console.WriteLine("disposed");
    return;
}

await Task.Delay(Timeout.Infinite);

public static partial class DriverTasks
{
    [Remote]
    public static int Echo(int value) => value + 1;
}
