using System.Buffers;
using System.ComponentModel;
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
    // The weak handle that the reference tracker releases this reference by once it is collected; 0 when no runtime
    // counts references in this process, so there is nothing to release.
    private nint _tracked;
    private int _released;

    /// <remarks>
    /// A counted reference is released when this instance is collected (<see cref="ReferenceTracker"/>): when no
    /// reference to an object remains in any process, and no pending task or open view uses it, the object is freed.
    /// </remarks>
    private protected ObjectRef(ObjectId id, OwnerAddress? owner, IRayCore? core, bool counted)
    {
        Id = id;
        Core = core ?? RayCore.CurrentOrNull;
        Owner = owner ?? Core?.LocalOwner ?? OwnerAddress.None;
        if (Core is null)
        {
            return;
        }

        if (!counted)
        {
            Core.AddReference(id, Owner);
        }

        _tracked = ReferenceTracker.Track(this, id, Core);
    }

    /// <summary>The object's id in the cluster.</summary>
    public ObjectId Id { get; }

    /// <summary>Who owns the object: the node that keeps its state, and the process that made it.</summary>
    internal OwnerAddress Owner { get; }

    /// <summary>The runtime this reference belongs to (the process's current one when it was created).</summary>
    private protected IRayCore? Core { get; }

    internal IRayCore Runtime => Core ?? RayCore.Current;

    /// <summary>Creates an untyped reference bound to <paramref name="core"/>, counted as a new reference to the object.</summary>
    public static ObjectRef Create(ObjectId id, IRayCore? core) => new(id, null, core, counted: false);

    /// <summary>
    /// Creates an untyped reference that takes over the reference the runtime already counted for the caller when it
    /// made the object (a submitted task's result, a <c>Put</c>); generated code and the runtime use this.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ObjectRef Adopt(ObjectId id, IRayCore core) => new(id, null, core, counted: true);

    /// <summary>An untyped reference read from the wire (inside a value that held it), counted as a new reference.</summary>
    internal static ObjectRef FromWire(ObjectId id, OwnerAddress owner) => new(id, owner, null, counted: false);

    /// <summary>Waits until the object is ready; rethrows the producing task's failure.</summary>
    public ValueTaskAwaiter GetAwaiter() => WaitAsync(CancellationToken.None).GetAwaiter();

    /// <summary>Waits until the object is ready; rethrows the producing task's failure.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default) => Runtime.WaitReadyAsync(this, cancellationToken);

    /// <summary>Blocks until the object is ready; rethrows the producing task's failure.</summary>
    public void Wait() => Runtime.WaitReady(this, null);

    /// <summary>Blocks until the object is ready, or throws <see cref="GetTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public void Wait(TimeSpan timeout) => Runtime.WaitReady(this, timeout);

    /// <inheritdoc/>
    public override string ToString() => $"ObjectRef({Id})";

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ObjectRef other && other.Id == Id;

    /// <inheritdoc/>
    public override int GetHashCode() => Id.GetHashCode();

    /// <summary>Releases the reference now rather than when it is collected; the reference must not be used after this.</summary>
    internal void Release()
    {
        if (_tracked != 0 && Interlocked.Exchange(ref _released, 1) == 0)
        {
            Core!.ReleaseReference(Id);
            ReferenceTracker.Untrack(_tracked);
        }

        // Until the handle says "released", this instance must not be seen collected, or the sweep would release again.
        GC.KeepAlive(this);
    }
}

/// <summary>
/// A typed future for a value of <typeparamref name="T"/>: <c>await</c> it, or block with <see cref="Get()"/>.
/// It is serializable, so it can travel inside arguments and results; only top-level arguments of a remote
/// call are resolved before the task runs, as in Ray.
/// </summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class ObjectRef<T> : ObjectRef, IMemoryPackable<ObjectRef<T>>
{
    private ObjectRef(ObjectId id, OwnerAddress? owner, IRayCore? core, bool counted)
        : base(id, owner, core, counted)
    {
    }

    /// <summary>Creates a typed reference bound to <paramref name="core"/>, counted as a new reference to the object.</summary>
    public static new ObjectRef<T> Create(ObjectId id, IRayCore? core) => new(id, null, core, counted: false);

    /// <summary>Creates a typed reference that takes over the reference the runtime counted for the caller (see <see cref="ObjectRef.Adopt"/>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static new ObjectRef<T> Adopt(ObjectId id, IRayCore core) => new(id, null, core, counted: true);

    /// <summary>Waits for the value; rethrows the producing task's failure as <see cref="RayTaskException"/>.</summary>
    public new ValueTaskAwaiter<T> GetAwaiter() => GetAsync(CancellationToken.None).GetAwaiter();

    /// <summary>Waits for the value; rethrows the producing task's failure as <see cref="RayTaskException"/>.</summary>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => Runtime.GetAsync<T>(this, cancellationToken);

    /// <summary>Blocks until the value is ready and returns it. Inside a task this releases the task's CPU while it waits.</summary>
    public T Get() => Runtime.Get<T>(this, null);

    /// <summary>Blocks until the value is ready, or throws <see cref="GetTimeoutException"/> naming the task and its state.</summary>
    public T Get(TimeSpan timeout) => Runtime.Get<T>(this, timeout);

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
    {
        if (value is not null)
        {
            // The value that holds this reference keeps its object alive.
            ContainedReferences.Add(value);
        }

        IdWireFormat.Write(ref writer, value?.Id, value?.Owner ?? OwnerAddress.None);
    }

    private static ObjectRef<T>? Read(ref MemoryPackReader reader)
        => IdWireFormat.Read(ref reader) is var (id, owner) ? new ObjectRef<T>(id, owner, null, counted: false) : null;

    private sealed class ObjectRefFormatter : MemoryPackFormatter<ObjectRef<T>>
    {
        public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ObjectRef<T>? value)
            => Write(ref writer, value);

        public override void Deserialize(ref MemoryPackReader reader, scoped ref ObjectRef<T>? value)
            => value = Read(ref reader);
    }
}
