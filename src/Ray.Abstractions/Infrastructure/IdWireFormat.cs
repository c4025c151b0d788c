using System.Buffers;
using MemoryPack;

namespace Ray.Infrastructure;

/// <summary>
/// How references (<see cref="ObjectRef{T}"/>, <see cref="ActorHandle{TActor}"/>) cross a process boundary:
/// only their 16-byte id, as a two-member MemoryPack object. The receiving side binds them to its own runtime.
/// </summary>
internal static class IdWireFormat
{
    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, ObjectId? id)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (id is not { } value)
        {
            writer.WriteNullObjectHeader();
            return;
        }

        writer.WriteObjectHeader(2);
        writer.WriteUnmanaged(value.High, value.Low);
    }

    public static ObjectId? Read(ref MemoryPackReader reader)
    {
        if (!reader.TryReadObjectHeader(out var count))
        {
            return null;
        }

        if (count != 2)
        {
            MemoryPackSerializationException.ThrowInvalidPropertyCount(2, count);
        }

        reader.ReadUnmanaged(out ulong high, out ulong low);
        return new ObjectId(high, low);
    }
}
