// Usage: Ray.TestDriver MODE
// Starts an embedded node, prints "workers: <pid> <pid> ...", "actors: <pid> ...", "store: <directory of its shared
// memory>", "socket: <the raylet's socket>" and "ready", then, by MODE:
//   wait       waits to be killed (SIGINT, SIGTERM or SIGKILL), with the default .NET behaviour for signals
//   store      the same, after putting a large object into the store
//   dispose    disposes the runtime and prints "disposed"
//   exit       returns from Main without disposing the runtime
//   ctrlc      cancels the first Ctrl+C (SIGINT), disposes the runtime, prints "disposed" and exits 0
//   unhandled  submits a task that fails, never reads its result, drops it and collects garbage, then disposes
//   capture DIR  with failed-call capture files in DIR: a task fails for one input and an actor method throws; prints
//              "failed: <the remote message>" for each, disposes (which writes the files) and prints "disposed"
// The misuse scenarios of Scenarios.cs run instead when MODE names one.
// Logs go to stderr: RayGen's at Debug, the framework's (Kestrel, hosting, gRPC) at the default (off).
using Microsoft.Extensions.Logging;
using Ray;

if (args.Length > 0 && await Scenarios.TryRunAsync(args[0]))
{
    return 0;
}

var mode = args.Length > 0 ? args[0] : "wait";
using var logs = LoggerFactory.Create(builder => builder
    .SetMinimumLevel(LogLevel.Trace)
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
if (mode == "ctrlc")
{
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stopRequested.TrySetResult();
    };
}

var ray = await RayRuntime.InitAsync(new RayOptions
{
    NumCpus = 2,
    LoggerFactory = logs,
    FailedTaskCapture = mode == "capture" ? new FailedTaskCaptureOptions { Directory = args[1] } : new FailedTaskCaptureOptions(),
});
var answer = await DriverTasks.Remote.Echo(41);
var actor = DriverActor.Remote();
await actor.Ping();
ObjectRef<double[]>? stored = null;
if (mode == "store")
{
    stored = ray.Put(new double[1 << 20]);
    await DriverTasks.Remote.Length(stored);
}

Console.WriteLine($"workers: {string.Join(' ', ray.WorkerProcessIds)}");
Console.WriteLine($"actors: {string.Join(' ', ray.ActorWorkerProcessIds)}");
Console.WriteLine($"store: {ray.GetObjectStoreStats().MemoryDirectory}");
Console.WriteLine($"socket: {ray.RayletSocketPath}");
Console.WriteLine($"echo: {answer}");
Console.WriteLine("ready");

switch (mode)
{
    case "dispose":
        await ray.DisposeAsync();
        Console.WriteLine("disposed");
        return 0;
    case "exit":
        return 0;
    case "ctrlc":
        await stopRequested.Task;
        await ray.DisposeAsync();
        Console.WriteLine("disposed");
        return 0;
    case "unhandled":
        await SubmitAndForgetAsync(ray);
        await ray.DisposeAsync();
        Console.WriteLine("disposed");
        return 0;
    case "capture":
        await FailAsync(DriverTasks.Remote.Divide(84, 2));
        await FailAsync(DriverTasks.Remote.Divide(84, 0));
        var account = DriverActor.Remote();
        await FailAsync(account.Withdraw(5));
        await ray.DisposeAsync();
        Console.WriteLine("disposed");
        return 0;
}

await Task.Delay(Timeout.Infinite);
GC.KeepAlive(stored);
return 0;

static async Task SubmitAndForgetAsync(RayRuntime ray)
{
    var id = SubmitFailing();
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (!ray.ListObjects().Any(o => o.Id == id && o.Location == ObjectLocation.Failed) && DateTime.UtcNow < deadline)
    {
        await Task.Delay(10);
    }

    // No reference to it is left; its failure was never read, so collecting it must report it.
    ((Ray.Core.DriverCoreWorker)ray.Core).CollectGarbage();
    Console.WriteLine("collected");
}

static async Task FailAsync(ObjectRef<int> call)
{
    try
    {
        Console.WriteLine($"returned: {await call}");
    }
    catch (RayTaskException e)
    {
        Console.WriteLine($"failed: {e.RemoteMessage}");
    }
}

[System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
static ObjectId SubmitFailing() => DriverTasks.Remote.Fail("nobody reads this").Id;

public static partial class DriverTasks
{
    [Remote]
    public static int Echo(int value) => value + 1;

    [Remote]
    public static int Length(ArrayView<double> data) => data.Length;

    [Remote]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    /// <summary>The process that last ran <see cref="Divide"/>: a replay in another process sets it there.</summary>
    public static int LastDivideProcessId { get; private set; }

    [Remote]
    public static int Divide(int dividend, int divisor)
    {
        LastDivideProcessId = Environment.ProcessId;
        return divisor == 0 ? throw new ArgumentException($"cannot divide {dividend} by zero", nameof(divisor)) : dividend / divisor;
    }
}

[Remote]
public partial class DriverActor
{
    private int _balance = 3;

    public int Ping() => 1;

    public int Withdraw(int amount) =>
        amount > _balance ? throw new InvalidOperationException($"cannot withdraw {amount}: the balance is {_balance}") : _balance -= amount;
}
