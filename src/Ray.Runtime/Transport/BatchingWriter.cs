using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;

namespace Ray.Transport;

/// <summary>
/// Queues messages for one stream and writes whatever has accumulated as one batch. After a quiet moment
/// the first message is written on the caller's thread (a lone task or result goes out without a thread
/// hop); while messages keep coming, a background drain writes them in batches, so a burst of tasks costs
/// one HTTP/2 frame per batch instead of one per item.
/// </summary>
/// <typeparam name="TMessage">The item type.</typeparam>
/// <typeparam name="TBatch">The batch message that goes on the wire.</typeparam>
internal sealed class BatchingWriter<TMessage, TBatch>
    where TBatch : IMessage
{
    private const int MaxBatch = 4096;

    private static readonly long QuietTicks = Stopwatch.Frequency / 20_000; // 50 µs

    private readonly ConcurrentQueue<TMessage> _queue = new();
    private readonly Func<List<TMessage>, TBatch> _createBatch;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TMessage> _items = [];
    private Func<TBatch, Task>? _write;
    private int _draining;
    private long _lastWrite;
    private volatile bool _completed;

    public BatchingWriter(Func<List<TMessage>, TBatch> createBatch) => _createBatch = createBatch;

    /// <summary>Completes when the writer was completed and everything queued was written, or a write failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts writing with <paramref name="write"/>; messages queued before this are written now.</summary>
    public void Start(Func<TBatch, Task> write)
    {
        _write = write;
        Signal(inline: false);
    }

    /// <summary>Queues a message; false once the writer is completed.</summary>
    public bool TryWrite(TMessage message)
    {
        if (_completed)
        {
            return false;
        }

        _queue.Enqueue(message);
        Signal(inline: Stopwatch.GetTimestamp() - Volatile.Read(ref _lastWrite) > QuietTicks);
        return true;
    }

    /// <summary>Stops accepting messages; <see cref="Completion"/> ends after what is queued is written.</summary>
    public void Complete()
    {
        _completed = true;
        Signal(inline: false);
    }

    private void Signal(bool inline)
    {
        if (_write is null || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
        {
            return;
        }

        if (inline)
        {
            _ = DrainAsync();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static writer => _ = writer.DrainAsync(), this, preferLocal: false);
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                _items.Clear();
                while (_items.Count < MaxBatch && _queue.TryDequeue(out var message))
                {
                    _items.Add(message);
                }

                if (_items.Count == 0)
                {
                    Volatile.Write(ref _draining, 0);

                    // A message queued after the last dequeue but before the flag was cleared must not be stranded.
                    if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
                    {
                        continue;
                    }

                    if (_completed && _queue.IsEmpty)
                    {
                        _completion.TrySetResult();
                    }

                    return;
                }

                await _write!(_createBatch(_items)).ConfigureAwait(false);
                Volatile.Write(ref _lastWrite, Stopwatch.GetTimestamp());
            }
        }
        catch (Exception e)
        {
            _completed = true;
            _completion.TrySetException(e);
        }
    }
}
