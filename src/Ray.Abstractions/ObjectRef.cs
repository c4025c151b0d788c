using System.Buffers;
using System.Runtime.CompilerServices;
using MemoryPack;
using Ray.Infrastructure;

namespace Ray;

/// <summary>
/// A future: a reference to an object that a task produces (or that <c>Put</c> stored), possibly on another
/// process or machine. This untyped form is what remote methods returning <c>void</c> or <c>Task</c> give:
/// awaiting it waits for the task and rethrows its failure.
/// </summary>
public class ObjectRef
{
    private protected ObjectRef(ObjectId id, IRayCore? core)
    {
        Id = id;
        Core = core;
    }

    /// <summary>The object's id in the cluster.</summary>
    public ObjectId Id { get; }

    /// <summary>The runtime this reference belongs to (the process's current one when it was deserialized).</summary>
    private protected IRayCore? Core { get; }

    internal IRayCore Runtime => Core ?? RayCore.Current;

    /// <summary>Creates an untyped reference bound to <paramref name="core"/>.</summary>
    public static ObjectRef Create(ObjectId id, IRayCore? core) => new(id, core);

    /// <summary>Waits until the object is ready; rethrows the producing task's failure.</summary>
    public ValueTaskAwaiter GetAwaiter() => WaitAsync(CancellationToken.None).GetAwaiter();

    /// <summary>Waits until the object is ready; rethrows the producing task's failure.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default) => Runtime.WaitReadyAsync(Id, cancellationToken);

    /// <summary>Blocks until the object is ready; rethrows the producing task's failure.</summary>
    public void Wait() => Runtime.WaitReady(Id, null);

    /// <summary>Blocks until the object is ready, or throws <see cref="GetTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public void Wait(TimeSpan timeout) => Runtime.WaitReady(Id, timeout);

    /// <inheritdoc/>
    public override string ToString() => $"ObjectRef({Id})";

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ObjectRef other && other.Id == Id;

    /// <inheritdoc/>
    public override int GetHashCode() => Id.GetHashCode();
}

/// <summary>
/// A typed future for a value of <typeparamref name="T"/>: <c>await</c> it, or block with <see cref="Get()"/>.
/// It is serializable, so it can travel inside arguments and results; only top-level arguments of a remote
/// call are resolved before the task runs, as in Ray.
/// </summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class ObjectRef<T> : ObjectRef, IMemoryPackable<ObjectRef<T>>
{
    private ObjectRef(ObjectId id, IRayCore? core)
        : base(id, core)
    {
    }

    /// <summary>Creates a typed reference bound to <paramref name="core"/>.</summary>
    public static new ObjectRef<T> Create(ObjectId id, IRayCore? core) => new(id, core);

    /// <summary>Waits for the value; rethrows the producing task's failure as <see cref="RayTaskException"/>.</summary>
    public new ValueTaskAwaiter<T> GetAwaiter() => GetAsync(CancellationToken.None).GetAwaiter();

    /// <summary>Waits for the value; rethrows the producing task's failure as <see cref="RayTaskException"/>.</summary>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => Runtime.GetAsync<T>(Id, cancellationToken);

    /// <summary>Blocks until the value is ready and returns it. Inside a task this releases the task's CPU while it waits.</summary>
    public T Get() => Runtime.Get<T>(Id, null);

    /// <summary>Blocks until the value is ready, or throws <see cref="GetTimeoutException"/> naming the task and its state.</summary>
    public T Get(TimeSpan timeout) => Runtime.Get<T>(Id, timeout);

    static void IMemoryPackFormatterRegister.RegisterFormatter()
    {
        if (!MemoryPackFormatterProvider.IsRegistered<ObjectRef<T>>())
        {
            MemoryPackFormatterProvider.Register(new ObjectRefFormatter());
        }
    }

    static void IMemoryPackable<ObjectRef<T>>.Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ObjectRef<T>? value)
        => Write(ref writer, value);

    static void IMemoryPackable<ObjectRef<T>>.Deserialize(ref MemoryPackReader reader, scoped ref ObjectRef<T>? value)
        => value = Read(ref reader);

    private static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, ObjectRef<T>? value)
        where TBufferWriter : IBufferWriter<byte>
        => IdWireFormat.Write(ref writer, value?.Id);

    private static ObjectRef<T>? Read(ref MemoryPackReader reader)
        => IdWireFormat.Read(ref reader) is { } id ? new ObjectRef<T>(id, null) : null;

    private sealed class ObjectRefFormatter : MemoryPackFormatter<ObjectRef<T>>
    {
        public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ObjectRef<T>? value)
            => Write(ref writer, value);

        public override void Deserialize(ref MemoryPackReader reader, scoped ref ObjectRef<T>? value)
            => value = Read(ref reader);
    }
}
