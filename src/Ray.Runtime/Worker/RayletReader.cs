using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// Reads the raylet's stream and hands each message to the worker. Short tasks may run right on the reading
/// thread (no thread hop); if such a task is about to block, <see cref="LeaveReadingThread"/> moves reading to
/// another thread first, starting at the next message, so the value the task waits for can still arrive.
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
        _ = ReadAsync(null, 0);
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
        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.Reader.ReadAsync(c.Batch, c.Index + 1), cursor, preferLocal: false);
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
