using System.Buffers;
using System.Net.Sockets;
using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.Transport;

/// <summary>
/// A process's end of the raylet's <see cref="FramedStream"/> over the node's Unix socket. Every operation on its socket
/// is a plain blocking call: the batches it writes go into the socket on the writer's thread, and a thread of the
/// process's own reads the raylet's with blocking receives (<see cref="IBlockingStreamReader{T}"/>). A socket that .NET
/// has used asynchronously once is non-blocking for good, and its "blocking" calls then wait for the socket engine's
/// thread to signal them: two wake-ups per message instead of one, which is why nothing here is async.
/// Connecting happens in the background; a socket that cannot be reached fails the first read with
/// <see cref="StatusCode.Unavailable"/>, as the gRPC stream would.
/// </summary>
internal sealed class FramedRayletClient : IAsyncStreamReader<RayletBatch>, IBlockingStreamReader<RayletBatch>, IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Task _connected;
    private readonly string _socketPath;
    private const int FrameBufferSize = 16 << 10;

    private readonly object _writing = new();
    private ArrayBufferWriter<byte> _frame = new(FrameBufferSize);
    private readonly BlockingFramedReader<RayletBatch> _reader;
    private CancellationTokenRegistration _stopReading;
    private int _readers;

    private FramedRayletClient(string socketPath, string token)
    {
        _socketPath = socketPath;
        _reader = new BlockingFramedReader<RayletBatch>(_socket, RayletBatch.Parser);
        _connected = Task.Run(() => Connect(token));
    }

    public RayletBatch Current => _reader.Current;

    /// <summary>Whether the raylet closed the stream on purpose; false when the connection just ended (its process died).</summary>
    public bool EndedByRaylet => _reader.EndedByPeer;

    /// <summary>Starts connecting to the raylet at <paramref name="socketPath"/>, presenting <paramref name="token"/>.</summary>
    public static FramedRayletClient Connect(string socketPath, string token) => new(socketPath, token);

    /// <inheritdoc/>
    /// <remarks>Waits for the connection first; <paramref name="cancellationToken"/> shuts the socket down to end a receive.</remarks>
    public bool MoveNextBlocking(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _readers, 1) == 0)
        {
            try
            {
                _connected.WaitAsync(cancellationToken).GetAwaiter().GetResult();
            }
            catch
            {
                _readers = 0;
                throw;
            }

            if (cancellationToken.CanBeCanceled)
            {
                _stopReading = cancellationToken.Register(static socket => ShutDown((Socket)socket!), _socket);
            }
        }

        return _reader.MoveNext(cancellationToken);
    }

    /// <summary>The same read on a thread-pool thread, for callers that want a task (a thread is blocked while it waits).</summary>
    public Task<bool> MoveNext(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => MoveNextBlocking(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Writes one batch into the socket on the calling thread; blocks only while the socket's buffer is full.</summary>
    /// <exception cref="IOException">The connection is broken.</exception>
    public Task WriteAsync(WorkerBatch batch) =>
        _connected.IsCompletedSuccessfully ? Write(batch) : WriteAfterConnectAsync(batch);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _connected.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException or SocketException or OperationCanceledException)
        {
        }

        await _stopReading.DisposeAsync().ConfigureAwait(false);

        // A receive blocked in the kernel ends when the socket is shut down, not when it is closed.
        ShutDown(_socket);
        _socket.Dispose();
    }

    private void Connect(string token)
    {
        try
        {
            _socket.Connect(new UnixDomainSocketEndPoint(_socketPath));
        }
        catch (SocketException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"Cannot reach the raylet at '{_socketPath}': {e.Message}", e));
        }

        lock (_writing)
        {
            FramedStream.WriteOpening(_frame, token);
            SendFrame();
        }
    }

    private Task Write(WorkerBatch batch)
    {
        try
        {
            lock (_writing)
            {
                FramedStream.WriteMessage(_frame, batch);
                SendFrame();
            }

            return Task.CompletedTask;
        }
        catch (IOException e)
        {
            return Task.FromException(e);
        }
    }

    private async Task WriteAfterConnectAsync(WorkerBatch batch)
    {
        await _connected.ConfigureAwait(false);
        await Write(batch).ConfigureAwait(false);
    }

    /// <summary>Sends what <see cref="_frame"/> holds and clears it; under <see cref="_writing"/>.</summary>
    private void SendFrame()
    {
        try
        {
            var pending = _frame.WrittenSpan;
            while (!pending.IsEmpty)
            {
                pending = pending[_socket.Send(pending)..];
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw new IOException($"The {FramedStream.Name} connection was closed: {e.Message}", e);
        }
        finally
        {
            // A large batch's buffer is not kept.
            if (_frame.Capacity > 1 << 20)
            {
                _frame = new ArrayBufferWriter<byte>(FrameBufferSize);
            }
            else
            {
                _frame.ResetWrittenCount();
            }
        }
    }

    private static void ShutDown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Not connected, or closed already: no receive is waiting.
        }
    }
}
