using System.Threading.Channels;
using Google.Protobuf;

namespace Ray.Transport;

/// <summary>
/// Queues messages for one stream and writes whatever has accumulated as one batch, so a burst of tasks or
/// results costs one HTTP/2 frame instead of one per item, and a lone message still goes out at once.
/// </summary>
/// <typeparam name="TMessage">The item type.</typeparam>
/// <typeparam name="TBatch">The batch message that goes on the wire.</typeparam>
internal sealed class BatchingWriter<TMessage, TBatch>
    where TBatch : IMessage
{
    private const int MaxBatch = 4096;

    private readonly Channel<TMessage> _channel = Channel.CreateUnbounded<TMessage>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly Func<List<TMessage>, TBatch> _createBatch;

    public BatchingWriter(Func<List<TMessage>, TBatch> createBatch) => _createBatch = createBatch;

    /// <summary>Queues a message; false once the writer is completed.</summary>
    public bool TryWrite(TMessage message) => _channel.Writer.TryWrite(message);

    /// <summary>Stops accepting messages; <see cref="RunAsync"/> ends after writing what is queued.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Writes batches until <see cref="Complete"/> or cancellation.</summary>
    public async Task RunAsync(Func<TBatch, Task> write, CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        var items = new List<TMessage>();
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Clear();
            while (items.Count < MaxBatch && reader.TryRead(out var message))
            {
                items.Add(message);
            }

            if (items.Count > 0)
            {
                await write(_createBatch(items)).ConfigureAwait(false);
            }
        }
    }
}
