using MemoryPack;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>Remote functions of the object store tests; each runs in a real worker process.</summary>
public static partial class StoreTasks
{
    /// <summary>The sum of the elements, read through a zero-copy view.</summary>
    [Remote]
    public static double Sum(ArrayView<double> data)
    {
        var sum = 0.0;
        foreach (var value in data.Span)
        {
            sum += value;
        }

        return sum;
    }

    /// <summary>The sum of the elements of an array that arrives deserialized (one copy).</summary>
    [Remote]
    public static double SumCopy(double[] data) => data.Sum();

    /// <summary>Where the view's elements are mapped from in the worker (null: not a file mapping), and their count.</summary>
    [Remote]
    public static unsafe ViewPlace Locate(ArrayView<double> data)
    {
        fixed (double* first = data.Span)
        {
            return new ViewPlace(ObjectStoreFixture.MappedPath(first), data.Length, Environment.ProcessId);
        }
    }

    /// <summary>Where a byte array argument is mapped from in the worker (null: not a file mapping).</summary>
    [Remote]
    public static unsafe string? LocateBytes(ArrayView<byte> data)
    {
        fixed (byte* first = data.Span)
        {
            return ObjectStoreFixture.MappedPath(first);
        }
    }

    [Remote]
    public static byte[] MakeBytes(int length) => new byte[length];

    /// <summary>A large result: <paramref name="length"/> doubles, made in the worker.</summary>
    [Remote]
    public static double[] Make(int length, int seed) => ObjectStoreFixture.Doubles(length, seed);

    /// <summary>Puts a large array from inside a task and returns the reference.</summary>
    [Remote]
    public static ObjectRef<double[]> PutInside(int length, int seed) => RayRuntime.Current.Put(ObjectStoreFixture.Doubles(length, seed));

    /// <summary>Gets a stored array inside a task through a reference that travelled inside an argument.</summary>
    [Remote]
    public static double SumThroughReference(List<ObjectRef<double[]>> references) => references.Sum(r => r.Get().Sum());

    /// <summary>Opens a view inside a task through a reference that travelled inside an argument.</summary>
    [Remote]
    public static async Task<double> SumThroughView(List<ObjectRef<double[]>> references)
    {
        var sum = 0.0;
        foreach (var reference in references)
        {
            using var view = await reference.GetViewAsync();
            foreach (var value in view.Span)
            {
                sum += value;
            }
        }

        return sum;
    }

    /// <summary>Puts large arrays in a loop until its worker is killed.</summary>
    [Remote]
    public static int PutForever(string startedMarker)
    {
        var data = new byte[4 << 20];
        var held = new List<ObjectRef<byte[]>>();
        while (true)
        {
            held.Add(RayRuntime.Current.Put(data));
            if (held.Count == 4)
            {
                File.WriteAllText(startedMarker, Environment.ProcessId.ToString());
            }
        }
    }

    /// <summary>Puts <paramref name="count"/> arrays of <paramref name="bytes"/> and drops each at once; returns the count.</summary>
    [Remote]
    public static int PutAndDrop(int bytes, int count)
    {
        var data = new byte[bytes];
        for (var i = 0; i < count; i++)
        {
            _ = RayRuntime.Current.Put(data);
        }

        return count;
    }

    /// <summary>Whether the node's listing and store stats, asked from inside a task, show the task's stored argument.</summary>
    [Remote]
    public static bool ListsItsArgumentInside(ObjectRef<double[]> data) =>
        RayRuntime.Current.ListObjects().Any(o => o.Id == data.Id) && RayRuntime.Current.GetObjectStoreStats().UsedBytes >= data.Get().Length * sizeof(double);

    /// <summary>Holds its argument until the test releases it through <paramref name="gate"/> (see <see cref="Gate"/>).</summary>
    [Remote]
    public static int HoldUntilReleased(ArrayView<double> data, string gate)
    {
        Gate.Enter(gate);
        return data.Length;
    }
}

/// <summary>Where a view's memory lies in a worker.</summary>
[MemoryPackable]
public partial record ViewPlace(string? MappedFrom, int Length, int ProcessId);

/// <summary>An actor that keeps stored arrays and the references it is given.</summary>
[Remote]
public partial class ArrayKeeper
{
    private readonly double[] _initial;
    private List<ObjectRef<double[]>> _kept = [];

    public ArrayKeeper(double[] initial) => _initial = initial;

    public double InitialSum() => _initial.Sum();

    public double SumView(ArrayView<double> data) => StoreTasks.Sum(data);

    public int Keep(List<ObjectRef<double[]>> references)
    {
        _kept.AddRange(references);
        return _kept.Count;
    }

    public double SumKept() => _kept.Sum(r => r.Get().Sum());

    /// <summary>Drops the kept references and collects garbage, so the worker releases them at once.</summary>
    public int Forget()
    {
        _kept = [];
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return 0;
    }
}
