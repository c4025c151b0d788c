using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Ray;

namespace RayGen.Benchmarks.Cluster;

/// <summary>Tasks of the object rows: what a reader on another node does with a large object.</summary>
public static partial class TransferTasks
{
    /// <summary>Reads the object through a view (no copy into the task's heap): the time is the node's pull.</summary>
    [Remote]
    public static int ViewLength(ObjectRef<byte[]> data)
    {
        using var view = data.GetView();
        return view.Length;
    }
}

/// <summary>
/// The object rows of <c>--cluster</c>. <c>object_transfer_gigabytes</c>: the driver puts an object into its node's
/// store, and a task pinned to another node reads it through a view, so the task's time is the pull of the object from
/// one node's shared memory into the other's over the object stream (plus one task round trip); beside it, the same
/// bytes sent over a plain loopback TCP socket between two threads of this process, in the same run. <c>broadcast_gigabytes</c>: one
/// object read by a task on each other node at once (Ray's release test sends 1 GiB to 50 nodes). Each round puts a
/// fresh object, untimed, so no round finds a copy left by the one before.
/// </summary>
internal static class ObjectTransferBenchmarks
{
    public static IReadOnlyList<string> Names { get; } = ["object_transfer_gigabytes", "broadcast_gigabytes"];

    public static async Task RunAsync(TextWriter output, RayRuntime ray, IReadOnlyList<NodeInfo> nodes, Settings settings)
    {
        var sizes = settings.Quick ? new[] { 100L << 20 } : [100L << 20, 1L << 30];
        var rounds = settings.Quick ? 3 : Math.Max(3, settings.Rounds);
        var others = nodes.Where(n => n.NodeId != ray.NodeId).Select(n => n.NodeId).ToArray();
        output.WriteLine($"{"row",-28} | {"size",8} | {"RayGen GB/s",11} | {"(min - max)",13} | {"raw TCP GB/s",12} | {"ratio",6} | what");
        output.WriteLine(new string('-', 120));

        foreach (var size in sizes)
        {
            if (settings.Selects(Names[0]))
            {
                var target = ObjectTasks(others[0]);
                var transfer = await MeasureAsync(rounds, size, size, async data => await target.ViewLength(data));
                var tcp = await MeasureTcpAsync(rounds, size);
                Row(output, Names[0], size, transfer, tcp, "driver's node -> another node, read by a task there through a view");
            }

            if (settings.Selects(Names[1]))
            {
                var readers = others.Select(ObjectTasks).ToArray();
                var broadcast = await MeasureAsync(rounds, size, size * readers.Length, async data => await ray.GetAsync(readers.Select(r => r.ViewLength(data))));
                Row(output, Names[1], size, broadcast, null, $"one object read at once by a task on each of the {readers.Length} other nodes (bytes delivered / time)");
            }
        }

        output.WriteLine();
        output.WriteLine("  the raw TCP figure is this machine's loopback throughput between two threads, one socket, 1 MiB writes, in the same run;");
        output.WriteLine("  RayGen's includes one task round trip and the pull's setup, and both ends share the machine's cores with the nodes.");
    }

    private static TransferTasks.Remote.Configured ObjectTasks(string node) =>
        TransferTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) });

    private static void Row(TextWriter output, string name, long size, Measurement measured, Measurement? tcp, string what) =>
        output.WriteLine($"{name,-28} | {Format(size),8} | {measured.Median,11:0.00} | {$"{measured.Min:0.00} - {measured.Max:0.00}",13} | " +
                         $"{(tcp is { } t ? t.Median.ToString("0.00", CultureInfo.InvariantCulture) : "-"),12} | {(tcp is { } r ? Program.Ratio(measured.Median / r.Median) : "-"),6} | {what}");

    private static string Format(long size) => size >= 1L << 30 ? $"{size >> 30} GiB" : $"{size >> 20} MiB";

    /// <summary>GB/s (10^9 bytes) of <paramref name="bytes"/> delivered per timed <paramref name="read"/> of a fresh object of <paramref name="objectSize"/> bytes.</summary>
    private static async Task<Measurement> MeasureAsync(int rounds, long objectSize, long bytes, Func<ObjectRef<byte[]>, Task> read)
    {
        var size = checked((int)objectSize);
        var rates = new double[rounds];
        var source = new byte[size];
        new Random(7).NextBytes(source.AsSpan(0, Math.Min(size, 1 << 20)));
        for (var round = -1; round < rounds; round++)
        {
            var data = RayRuntime.Current.Put(source);
            var stopwatch = Stopwatch.StartNew();
            await read(data);
            var seconds = stopwatch.Elapsed.TotalSeconds;
            if (round >= 0)
            {
                rates[round] = bytes / seconds / 1e9;
            }

            // Let the object go before the next round puts another.
            data = null!;
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return Measurement.Of(rates);
    }

    /// <summary>Loopback TCP between two threads: one socket, the sender writing 1 MiB at a time, the receiver reading into one buffer.</summary>
    private static async Task<Measurement> MeasureTcpAsync(int rounds, long size)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var source = new byte[1 << 20];
        var destination = GC.AllocateUninitializedArray<byte>((int)Math.Min(size, int.MaxValue - 64));
        var rates = new double[rounds];
        for (var round = -1; round < rounds; round++)
        {
            using var client = new TcpClient();
            var accepting = listener.AcceptTcpClientAsync();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            using var server = await accepting;
            var stopwatch = Stopwatch.StartNew();
            var receiving = Task.Run(async () =>
            {
                var stream = server.GetStream();
                var received = 0;
                while (received < destination.Length)
                {
                    var n = await stream.ReadAsync(destination.AsMemory(received));
                    if (n == 0)
                    {
                        throw new IOException("The sender closed early.");
                    }

                    received += n;
                }
            });
            var sending = client.GetStream();
            for (long sent = 0; sent < destination.Length; sent += source.Length)
            {
                await sending.WriteAsync(source.AsMemory(0, (int)Math.Min(source.Length, destination.Length - sent)));
            }

            await receiving;
            if (round >= 0)
            {
                rates[round] = destination.Length / stopwatch.Elapsed.TotalSeconds / 1e9;
            }
        }

        return Measurement.Of(rates);
    }
}
