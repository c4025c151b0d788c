using System.Buffers;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using MemoryPack;
using Ray.Infrastructure;

namespace Ray;

/// <summary>
/// The items of a streaming task or actor method (one that returns <see cref="IAsyncEnumerable{T}"/>, Ray's streaming
/// generator), each an object of its own, in the order the producer yields them and while it still runs:
/// <c>await foreach (ObjectRef&lt;T&gt; item in stream)</c> gives their references (pass them on to other tasks), and
/// <see cref="ReadAllAsync"/> their values.
/// </summary>
/// <remarks>
/// <para>
/// A stream is read once: its position is kept by its owner, so each item goes to one reader, and enumerating the stream
/// again (or reading it in another task it was passed to) goes on where reading stopped. Leaving an
/// <c>await foreach</c> before the end (<c>break</c>, an exception) cancels the producer, as <c>ray.Cancel(stream)</c>
/// does; items already made stay readable.
/// </para>
/// <para>
/// A failure of the producer is the item after the last one it yielded: reading that item's value throws what the
/// producer threw (<see cref="RayTaskException"/>, <see cref="WorkerDiedException"/>, <see cref="TaskCancelledException"/>),
/// and the stream ends there. A producer whose worker dies is run again while its <c>MaxRetries</c> allow, and the
/// stream goes on after the items already delivered. With <see cref="TaskOptions.GeneratorBackpressureNumObjects"/>
/// (or the attribute's), the producer pauses while that many items wait to be read.
/// </para>
/// <para>
/// The stream is serializable like an <see cref="ObjectRef{T}"/>: pass it to another task or actor, which reads it there.
/// </para>
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
public sealed class ObjectRefStream<T> : IAsyncEnumerable<ObjectRef<T>>, IMemoryPackable<ObjectRefStream<T>>, IEquatable<ObjectRefStream<T>>
{
    private readonly ObjectRef _generator;

    private ObjectRefStream(ObjectRef generator) => _generator = generator;

    /// <summary>The stream's id: the id of its producer's own return object, which the items are named after.</summary>
    public ObjectId Id => _generator.Id;

    /// <summary>
    /// The producer's completion: ready once it has yielded its last item, and awaiting it rethrows its failure. The
    /// stream lives as long as a reference to it (or to this) does.
    /// </summary>
    public ObjectRef Completion => _generator;

    /// <summary>
    /// Creates a stream that takes over the reference the runtime counted for the caller when it submitted the producer
    /// (see <see cref="ObjectRef.Adopt"/>); generated code uses this.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ObjectRefStream<T> Adopt(ObjectId id, IRayCore core) => new(ObjectRef.Adopt(id, core));

    /// <summary>
    /// Reads the items' references in order, each as soon as the producer has yielded it; the enumeration ends after the
    /// last one. Disposing the enumerator before the end cancels the producer.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the next item (the producer goes on).</param>
    public IAsyncEnumerator<ObjectRef<T>> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Enumerator(this, cancellationToken);

    /// <summary>
    /// Reads the items' values in order. A failed producer's error is thrown at the item where it happened, after the
    /// items before it. Leaving the loop before the end cancels the producer.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the next item or value.</param>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in this.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return await item.GetAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public bool Equals(ObjectRefStream<T>? other) => other is not null && other.Id == Id;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ObjectRefStream<T>);

    /// <inheritdoc/>
    public override int GetHashCode() => Id.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"ObjectRefStream<{typeof(T).Name}>({Id})";

    static void IMemoryPackFormatterRegister.RegisterFormatter()
    {
        if (!MemoryPackFormatterProvider.IsRegistered<ObjectRefStream<T>>())
        {
            MemoryPackFormatterProvider.Register(new Formatter());
        }
    }

    static void IMemoryPackable<ObjectRefStream<T>>.Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ObjectRefStream<T>? value)
        => Write(ref writer, value);

    static void IMemoryPackable<ObjectRefStream<T>>.Deserialize(ref MemoryPackReader reader, scoped ref ObjectRefStream<T>? value)
        => value = Read(ref reader);

    private static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, ObjectRefStream<T>? value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (value is not null)
        {
            // The value that holds the stream keeps it (and so its unread items) alive.
            ContainedReferences.Add(value._generator);
        }

        IdWireFormat.Write(ref writer, value?.Id, value?._generator.Owner ?? OwnerAddress.None);
    }

    private static ObjectRefStream<T>? Read(ref MemoryPackReader reader)
        => IdWireFormat.Read(ref reader) is var (id, owner) ? new ObjectRefStream<T>(ObjectRef.FromWire(id, owner)) : null;

    private sealed class Formatter : MemoryPackFormatter<ObjectRefStream<T>>
    {
        public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ObjectRefStream<T>? value)
            => Write(ref writer, value);

        public override void Deserialize(ref MemoryPackReader reader, scoped ref ObjectRefStream<T>? value)
            => value = Read(ref reader);
    }

    /// <summary>One reader's pass over the stream: each step asks the stream's owner for the item at its position.</summary>
    private sealed class Enumerator(ObjectRefStream<T> stream, CancellationToken cancellationToken) : IAsyncEnumerator<ObjectRef<T>>
    {
        private bool _ended;

        public ObjectRef<T> Current { get; private set; } = null!;

        public async ValueTask<bool> MoveNextAsync()
        {
            if (_ended)
            {
                return false;
            }

            var core = stream._generator.Runtime;
            var item = await core.ReadStreamAsync(stream.Id, cancellationToken).ConfigureAwait(false);
            if (item.IsNil)
            {
                _ended = true;
                return false;
            }

            Current = ObjectRef<T>.Adopt(item, core);
            return true;
        }

        public ValueTask DisposeAsync()
        {
            if (!_ended)
            {
                // The reader stopped before the end: the producer need not go on.
                _ended = true;
                stream._generator.Runtime.Cancel(stream.Id, force: false);
            }

            return default;
        }
    }
}
