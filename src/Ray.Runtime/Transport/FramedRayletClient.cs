using System.IO.Pipelines;
using System.Net.Sockets;
using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.Transport;

/// <summary>
/// A process's end of the raylet's <see cref="FramedStream"/> over the node's Unix socket: the batches it writes go
/// straight into the socket, and it reads the raylet's as a gRPC stream reader. Connecting happens in the background;
/// a socket that cannot be reached fails the first read with <see cref="StatusCode.Unavailable"/>, as the gRPC
/// stream would.
/// </summary>
internal sealed class FramedRayletClient : IAsyncStreamReader<RayletBatch>, IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Task _connected;
    private readonly string _socketPath;
    private PipeReader? _input;
    private PipeWriter? _output;
    private FramedStreamReader<RayletBatch>? _reader;
    private FramedStreamWriter? _writer;

    private FramedRayletClient(string socketPath, string token)
    {
        _socketPath = socketPath;
        _connected = ConnectAsync(token);
    }

    public RayletBatch Current => _reader!.Current;

    /// <summary>Whether the raylet closed the stream on purpose; false when the connection just ended (its process died).</summary>
    public bool EndedByRaylet => _reader?.EndedByPeer == true;

    /// <summary>Starts connecting to the raylet at <paramref name="socketPath"/>, presenting <paramref name="token"/>.</summary>
    public static FramedRayletClient Connect(string socketPath, string token) => new(socketPath, token);

    public Task<bool> MoveNext(CancellationToken cancellationToken) =>
        _connected.IsCompletedSuccessfully ? _reader!.MoveNext(cancellationToken) : MoveNextAfterConnectAsync(cancellationToken);

    /// <summary>Writes one batch; completes when the socket took it.</summary>
    public Task WriteAsync(WorkerBatch batch) =>
        _connected.IsCompletedSuccessfully ? _writer!.WriteAsync(batch) : WriteAfterConnectAsync(batch);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _connected.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException or SocketException or OperationCanceledException)
        {
        }

        if (_output is not null)
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }

        if (_input is not null)
        {
            await _input.CompleteAsync().ConfigureAwait(false);
        }

        _socket.Dispose();
    }

    private async Task ConnectAsync(string token)
    {
        try
        {
            await _socket.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath)).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"Cannot reach the raylet at '{_socketPath}': {e.Message}", e));
        }

        var stream = new NetworkStream(_socket, ownsSocket: false);
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 << 10, minimumReadSize: 16 << 10));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 << 10));
        _reader = new FramedStreamReader<RayletBatch>(_input, RayletBatch.Parser);
        _writer = new FramedStreamWriter(_output);
        FramedStream.WriteOpening(_output, token);
        await _output.FlushAsync().ConfigureAwait(false);
    }

    private async Task<bool> MoveNextAfterConnectAsync(CancellationToken cancellationToken)
    {
        await _connected.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _reader!.MoveNext(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAfterConnectAsync(WorkerBatch batch)
    {
        await _connected.ConfigureAwait(false);
        await _writer!.WriteAsync(batch).ConfigureAwait(false);
    }
}
