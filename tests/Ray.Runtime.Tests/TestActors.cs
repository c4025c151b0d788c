namespace Ray.Runtime.Tests;

/// <summary>The seed's counter, plus what the actor tests need to observe.</summary>
[Remote]
public partial class Counter
{
    private int _value;
    private int _inside;

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

    /// <summary>
    /// Holds until the test releases it through <paramref name="gate"/> (see <see cref="Gate"/>); returns how many calls
    /// were inside this actor when it entered, itself included: the actor's own record of how its calls interleaved.
    /// </summary>
    public async Task<int> HoldAsync(string gate)
    {
        var inside = Interlocked.Increment(ref _inside);
        try
        {
            await Gate.EnterAsync(gate);
            return inside;
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }

    /// <summary>Enters <paramref name="gate"/>, so the test knows the call is in flight, then returns the value once released.</summary>
    public int HoldThenGet(string gate)
    {
        Gate.Enter(gate);
        return _value;
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
