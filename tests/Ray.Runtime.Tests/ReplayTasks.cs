namespace Ray.Runtime.Tests;

/// <summary>
/// Remote code for the replay tests. Each records the process it ran in, so a test tells a replay in its own process
/// (what a debugger would stop in) from a run in a worker.
/// </summary>
public static partial class ReplayTasks
{
    /// <summary>The process that last ran one of these functions, in this process (0 until one runs here).</summary>
    public static int LastProcessId { get; set; }

    /// <summary>Doubles a value, unless it is a multiple of 7.</summary>
    [Remote(MaxRetries = 0)]
    public static int Checked(int value, string label)
    {
        LastProcessId = Environment.ProcessId;
        return value % 7 == 0
            ? throw new ArgumentOutOfRangeException(nameof(value), value, $"{label}: {value} is a multiple of 7")
            : value * 2;
    }

    /// <summary>Calls <see cref="Checked"/> as a nested task and passes its failure on.</summary>
    [Remote(MaxRetries = 0)]
    public static async Task<int> CallsChecked(int value) => await Remote.Checked(value, "nested");

    /// <summary>Sums a large array read in place, and fails when its last element is negative.</summary>
    [Remote(MaxRetries = 0)]
    public static long SumUnlessLastIsNegative(ArrayView<long> data)
    {
        LastProcessId = Environment.ProcessId;
        var span = data.Span;
        if (span[^1] < 0)
        {
            throw new InvalidDataException($"the last of {span.Length} elements is {span[^1]}");
        }

        var sum = 0L;
        foreach (var x in span)
        {
            sum += x;
        }

        return sum;
    }

    /// <summary>Fails, naming the failure <paramref name="id"/> and the length of <paramref name="payload"/>.</summary>
    [Remote(MaxRetries = 0)]
    public static int FailWith(string payload, int id)
    {
        LastProcessId = Environment.ProcessId;
        throw new InvalidOperationException($"failure {id} ({payload.Length} characters)");
    }
}

/// <summary>An account whose withdrawals fail when the balance is short: the failure depends on the actor's state.</summary>
[Remote]
public partial class ReplayAccount
{
    private int _balance;

    public ReplayAccount(int balance)
    {
        _balance = balance;
        ConstructedIn = Environment.ProcessId;
    }

    /// <summary>The process that last made an account, in this process (0 until one is made here).</summary>
    public static int ConstructedIn { get; set; }

    public int Withdraw(int amount)
    {
        if (amount <= 0)
        {
            throw new ArgumentException($"a withdrawal must be positive, not {amount}", nameof(amount));
        }

        return amount > _balance
            ? throw new InvalidOperationException($"cannot withdraw {amount}: the balance is {_balance}")
            : _balance -= amount;
    }
}
