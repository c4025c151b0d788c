using System.ComponentModel;

namespace Ray.Infrastructure;

/// <summary>
/// Where the items of a streaming generator (a remote method returning <see cref="IAsyncEnumerable{T}"/>) go while it
/// runs: the runtime reports each one to the stream's owner as an object of its own. Implemented by Ray.Runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGeneratorItemWriter
{
    /// <summary>
    /// How many items, from the first, an earlier attempt of the call already delivered: a retry makes them again (so the
    /// producer's state is the same) but does not write them.
    /// </summary>
    int ItemsToSkip { get; }

    /// <summary>
    /// Writes item <paramref name="index"/>, serialized as a result is; completes when the producer may make the next one,
    /// which is later than at once while the consumer is as many items behind as the stream's backpressure allows.
    /// </summary>
    ValueTask WriteAsync(int index, ReadOnlyMemory<byte> item, CancellationToken cancellationToken);
}
