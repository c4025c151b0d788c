using System.Buffers;
using MemoryPack;
using Ray.Infrastructure;

namespace Ray;

/// <summary>
/// A reference to an actor: an instance of a <c>[Remote]</c> class living in a worker process. Generated
/// extension methods turn its public methods into calls (<c>handle.Inc()</c>) that return futures. Calls from
/// one caller run in the order they were made. The handle is serializable: pass it to tasks and other actors,
/// and every holder calls the same actor.
/// </summary>
/// <typeparam name="TActor">The actor class.</typeparam>
public sealed class ActorHandle<TActor> : IMemoryPackable<ActorHandle<TActor>>, IEquatable<ActorHandle<TActor>>
    where TActor : class
{
    private ActorHandle(ActorId id, OwnerAddress owner, IRayCore? core)
    {
        Id = id;
        Owner = owner;
        Core = core;
    }

    /// <summary>The actor's id.</summary>
    public ActorId Id { get; }

    /// <summary>Who owns the actor: the node of the process that created it, which decides its restarts.</summary>
    internal OwnerAddress Owner { get; }

    internal IRayCore? Core { get; }

    /// <summary>Creates a handle bound to <paramref name="core"/> (generated code and the runtime use this).</summary>
    public static ActorHandle<TActor> Create(ActorId id, IRayCore? core) => new(id, core?.LocalOwner ?? OwnerAddress.None, core);

    /// <summary>Creates a handle to an actor owned by <paramref name="owner"/> (the runtime uses this for looked-up actors).</summary>
    internal static ActorHandle<TActor> Create(ActorId id, OwnerAddress owner, IRayCore? core) => new(id, owner, core);

    /// <inheritdoc/>
    public bool Equals(ActorHandle<TActor>? other) => other is not null && other.Id == Id;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ActorHandle<TActor>);

    /// <inheritdoc/>
    public override int GetHashCode() => Id.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"ActorHandle<{typeof(TActor).Name}>({Id})";

    static void IMemoryPackFormatterRegister.RegisterFormatter()
    {
        if (!MemoryPackFormatterProvider.IsRegistered<ActorHandle<TActor>>())
        {
            MemoryPackFormatterProvider.Register(new Formatter());
        }
    }

    static void IMemoryPackable<ActorHandle<TActor>>.Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ActorHandle<TActor>? value)
        => Write(ref writer, value);

    static void IMemoryPackable<ActorHandle<TActor>>.Deserialize(ref MemoryPackReader reader, scoped ref ActorHandle<TActor>? value)
        => value = Read(ref reader);

    private static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, ActorHandle<TActor>? value)
        where TBufferWriter : IBufferWriter<byte>
        => IdWireFormat.Write(ref writer, value?.Id.Value, value?.Owner ?? OwnerAddress.None);

    private static ActorHandle<TActor>? Read(ref MemoryPackReader reader)
        => IdWireFormat.Read(ref reader) is var (id, owner) ? new ActorHandle<TActor>(new ActorId(id), owner, null) : null;

    private sealed class Formatter : MemoryPackFormatter<ActorHandle<TActor>>
    {
        public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ActorHandle<TActor>? value)
            => Write(ref writer, value);

        public override void Deserialize(ref MemoryPackReader reader, scoped ref ActorHandle<TActor>? value)
            => value = Read(ref reader);
    }
}
