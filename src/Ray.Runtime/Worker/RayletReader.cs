using Grpc.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Worker;

/// <summary>
/// Reads the raylet's stream and hands each message to the worker. Short tasks may run right on the reading
/// thread (no thread hop); if such a task is about to block, <see cref="LeaveReadingThread"/> moves reading to
/// another thread first, starting at the next message, so the value the task waits for can still arrive.
/// A stream that can be read with blocking calls (the node's socket, <see cref="IBlockingStreamReader{T}"/>) is read by a
/// thread of its own, which the kernel wakes when bytes come: one wake-up per message instead of two (the socket engine's
/// thread, then a thread-pool thread), and no thread-pool spinning after each. Moving reading away then starts another
/// such thread.
/// </summary>
internal sealed class RayletReader
{
    [ThreadStatic]
    private static Cursor? t_cursor;

    private readonly IAsyncStreamReader<RayletBatch> _stream;
    private readonly Action<RayletMessage> _handle;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationToken _cancellationToken;

    public RayletReader(IAsyncStreamReader<RayletBatch> stream, Action<RayletMessage> handle)
    {
        _stream = stream;
        _handle = handle;
    }

    /// <summary>Whether the calling thread is the one reading the stream.</summary>
    public static bool IsReadingThread => t_cursor is not null;

    /// <summary>Reads until the stream ends; faults if reading fails.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        _cancellationToken = cancellationToken;
        if (_stream is IBlockingStreamReader<RayletBatch>)
        {
            ContinueReading(null, 0);
        }
        else
        {
            _ = ReadAsync(null, 0);
        }

        return _completion.Task;
    }

    /// <summary>Called before the current thread blocks: if it is the reading thread, reading continues elsewhere.</summary>
    public static void LeaveReadingThread()
    {
        if (t_cursor is not { } cursor)
        {
            return;
        }

        t_cursor = null;
        cursor.Detached = true;
        cursor.Reader.ContinueReading(cursor.Batch, cursor.Index + 1);
    }

    /// <summary>Reads on from message <paramref name="start"/> of <paramref name="batch"/> (if any) on another thread.</summary>
    private void ContinueReading(RayletBatch? batch, int start)
    {
        if (_stream is IBlockingStreamReader<RayletBatch> blocking)
        {
            var thread = new Thread(static state =>
            {
                var (reader, stream, batch, start) = ((RayletReader, IBlockingStreamReader<RayletBatch>, RayletBatch?, int))state!;
                reader.Read(stream, batch, start);
            })
            {
                IsBackground = true,
                Name = "RayGen raylet reader",
            };
            thread.UnsafeStart((this, blocking, batch, start));
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Reader.ReadAsync(state.Batch, state.Start), (Reader: this, Batch: batch, Start: start), preferLocal: false);
        }
    }

    /// <summary>The blocking counterpart of <see cref="ReadAsync"/>, on a thread of its own.</summary>
    private void Read(IBlockingStreamReader<RayletBatch> stream, RayletBatch? batch, int start)
    {
        try
        {
            if (batch is not null && !Process(batch, start))
            {
                return;
            }

            while (stream.MoveNextBlocking(_cancellationToken))
            {
                if (!Process(stream.Current, 0))
                {
                    return;
                }
            }

            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
        }
    }

    private async Task ReadAsync(RayletBatch? batch, int start)
    {
        try
        {
            if (batch is not null && !Process(batch, start))
            {
                return;
            }

            while (await _stream.MoveNext(_cancellationToken).ConfigureAwait(false))
            {
                if (!Process(_stream.Current, 0))
                {
                    return;
                }
            }

            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
        }
    }

    /// <summary>Handles a batch from <paramref name="start"/>; false if reading moved to another thread meanwhile.</summary>
    private bool Process(RayletBatch batch, int start)
    {
        var cursor = new Cursor(this, batch);
        t_cursor = cursor;
        try
        {
            for (var i = start; i < batch.Messages.Count; i++)
            {
                cursor.Index = i;
                _handle(batch.Messages[i]);
                if (cursor.Detached)
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            if (t_cursor == cursor)
            {
                t_cursor = null;
            }
        }
    }

    private sealed class Cursor(RayletReader reader, RayletBatch batch)
    {
        public RayletReader Reader { get; } = reader;

        public RayletBatch Batch { get; } = batch;

        public int Index { get; set; }

        public bool Detached { get; set; }
    }
}
