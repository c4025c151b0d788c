using System.Diagnostics;

namespace Ray.Runtime.Tests;

/// <summary>The seed's counter, plus what the actor tests need to observe.</summary>
[Remote]
public partial class Counter
{
    private int _value;

    public Counter(int start) => _value = start;

    public Counter()
        : this(0)
    {
    }

    public void Inc() => _value++;

    public int Add(int amount) => _value += amount;

    public int GetValue() => _value;

    public int ProcessId() => Environment.ProcessId;

    public int Fail(string message) => throw new InvalidOperationException(message);

    public async Task<Interval> SlowAsync(int milliseconds)
    {
        var start = Stopwatch.GetTimestamp();
        await Task.Delay(milliseconds);
        return new Interval(Environment.ProcessId, start, Stopwatch.GetTimestamp());
    }

    public int SleepThenGet(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return _value;
    }

    /// <summary>Writes <paramref name="startedMarker"/> once running, so a test knows the call is in flight.</summary>
    public int SignalThenSleepThenGet(string startedMarker, int milliseconds)
    {
        File.WriteAllText(startedMarker, "started");
        return SleepThenGet(milliseconds);
    }
}

/// <summary>An actor whose constructor always throws.</summary>
[Remote]
public partial class Broken
{
    public Broken(string reason) => throw new ArgumentException(reason);

    public int Value() => 1;
}

/// <summary>Another actor type, for forged handles.</summary>
[Remote]
public partial class Other
{
    public int Ping() => 1;
}

public static partial class ActorTasks
{
    /// <summary>A task that calls an actor through a handle it received as an argument.</summary>
    [Remote]
    public static int IncrementMany(ActorHandle<Counter> counter, int times)
    {
        for (var i = 0; i < times; i++)
        {
            counter.Inc();
        }

        return counter.GetValue().Get();
    }

    [Remote]
    public static ActorHandle<Counter> CreateInside(int start) => Counter.Remote(start);

    [Remote]
    public static int ReadNamed(string name) => RayRuntime.Current.GetActor<Counter>(name).GetValue().Get();
}
