using Ray.Core;
using Ray.Infrastructure;
using Ray.Ownership;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// The worker's side of one streaming generator call (Ray's generator executor): each item the producer yields goes to
/// the raylet as a <see cref="GeneratorItem"/> of its own, ahead of the call's <see cref="TaskFinished"/> on the same
/// stream, and with backpressure the producer waits after an item while the reader is that many items behind. The
/// raylet says how far the reader got with <see cref="GeneratorConsumed"/>; a waiting producer counts as blocked, so
/// its lease can run other work meanwhile (a reader that is a task of the same node then never waits for a CPU the
/// producer holds).
/// </summary>
internal sealed class GeneratorWriter : IGeneratorItemWriter
{
    private readonly object _lock = new();
    private readonly ObjectId _taskId;
    private readonly ulong _leaseId;
    private readonly ObjectIdProto? _actorId;
    private readonly int _backpressure;
    private readonly ConnectedCoreWorker _core;
    private readonly Action<WorkerMessage> _send;
    private long _consumed;
    private TaskCompletionSource? _room;

    public GeneratorWriter(ObjectId taskId, ulong leaseId, ObjectIdProto? actorId, GeneratorExecution execution, ConnectedCoreWorker core, Action<WorkerMessage> send)
    {
        _taskId = taskId;
        _leaseId = leaseId;
        _actorId = actorId;
        _backpressure = execution.BackpressureNumObjects;
        _consumed = execution.Consumed;
        ItemsToSkip = execution.SkipItems;
        _core = core;
        _send = send;
    }

    public int ItemsToSkip { get; }

    public async ValueTask WriteAsync(int index, ReadOnlyMemory<byte> item, CancellationToken cancellationToken)
    {
        var message = new GeneratorItem { TaskId = _taskId.ToProto(), LeaseId = _leaseId, Index = index, ActorId = _actorId };
        var contained = CallArguments.SetItem(message, OwnedStream.ItemId(_taskId, index), item);
        _send(new WorkerMessage { GeneratorItem = message });
        GC.KeepAlive(contained);
        if (_backpressure > 0)
        {
            await WaitForRoomAsync(index + 1L, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The reader has taken <paramref name="consumed"/> items.</summary>
    public void OnConsumed(long consumed)
    {
        TaskCompletionSource? room;
        lock (_lock)
        {
            if (consumed <= _consumed)
            {
                return;
            }

            _consumed = consumed;
            room = _room;
            _room = null;
        }

        room?.TrySetResult();
    }

    /// <summary>Waits while <paramref name="written"/> items less those read reach the backpressure limit.</summary>
    private async ValueTask WaitForRoomAsync(long written, CancellationToken cancellationToken)
    {
        IDisposable? blocked = null;
        try
        {
            while (true)
            {
                Task room;
                lock (_lock)
                {
                    if (written - _consumed < _backpressure)
                    {
                        return;
                    }

                    _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    room = _room.Task;
                }

                blocked ??= _core.EnterBlocked();
                await room.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            blocked?.Dispose();
        }
    }
}
