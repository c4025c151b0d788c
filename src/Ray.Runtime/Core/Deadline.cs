using System.Diagnostics;

namespace Ray.Core;

/// <summary>One timeout shared by a sequence of waits (a get of many references): each wait gets what is left of it.</summary>
internal readonly struct Deadline
{
    private readonly long _start;
    private readonly TimeSpan? _timeout;

    private Deadline(TimeSpan? timeout)
    {
        if (timeout is { } t && t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        }

        _timeout = timeout == Timeout.InfiniteTimeSpan ? null : timeout;
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>The time left (never negative), or null when there is no timeout.</summary>
    public TimeSpan? Remaining => _timeout is { } timeout ? Max(timeout - Stopwatch.GetElapsedTime(_start), TimeSpan.Zero) : null;

    public static Deadline Start(TimeSpan? timeout) => new(timeout);

    /// <summary>Waits for <paramref name="pending"/> within the time left; throws <see cref="GetTimeoutException"/> naming <paramref name="reference"/>.</summary>
    public async Task<T> WaitAsync<T>(RayRuntime runtime, ObjectRef reference, Task<T> pending)
    {
        await WaitAsync(runtime, reference, (Task)pending).ConfigureAwait(false);
        return await pending.ConfigureAwait(false);
    }

    /// <inheritdoc cref="WaitAsync{T}(RayRuntime, ObjectRef, Task{T})"/>
    public async Task WaitAsync(RayRuntime runtime, ObjectRef reference, Task pending)
    {
        if (Remaining is not { } remaining)
        {
            await pending.ConfigureAwait(false);
            return;
        }

        try
        {
            await pending.WaitAsync(remaining).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!pending.IsCompleted)
        {
            throw new GetTimeoutException(reference.Id, runtime.Core.DescribePending(reference.Id), _timeout!.Value);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
