using System.Buffers;
using MemoryPack;

namespace Ray.Infrastructure;

/// <summary>
/// How references (<see cref="ObjectRef{T}"/>, <see cref="ActorHandle{TActor}"/>) cross a process boundary: their id
/// and their owner's address, as a two-member MemoryPack object. The receiving side binds them to its own runtime.
/// </summary>
internal static class IdWireFormat
{
    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, ObjectId? id, OwnerAddress owner)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (id is not { } value)
        {
            writer.WriteNullObjectHeader();
            return;
        }

        writer.WriteObjectHeader(2);
        writer.WriteUnmanaged(value, owner);
    }

    public static (ObjectId Id, OwnerAddress Owner)? Read(ref MemoryPackReader reader)
    {
        if (!reader.TryReadObjectHeader(out var count))
        {
            return null;
        }

        if (count != 2)
        {
            MemoryPackSerializationException.ThrowInvalidPropertyCount(2, count);
        }

        reader.ReadUnmanaged(out ObjectId id, out OwnerAddress owner);
        return (id, owner);
    }
}
