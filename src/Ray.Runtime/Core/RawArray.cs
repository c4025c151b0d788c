using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MemoryPack;

namespace Ray.Core;

/// <summary>
/// Whether MemoryPack writes a <typeparamref name="T"/> as a raw array: its element count (4 bytes) then the
/// elements' memory. That holds for arrays of unmanaged elements unless a formatter of one's own is registered;
/// it is probed once per type by serializing a small array. For such values the serialized size is known up
/// front, so a large one is copied straight into the object store: one copy instead of two.
/// </summary>
internal static class RawArray<T>
{
    /// <summary>The element size in bytes, or 0 when <typeparamref name="T"/> is not written as a raw array.</summary>
    public static readonly int ElementSize = Probe();

    /// <summary>Makes an array of <typeparamref name="T"/> with the given length, without clearing it.</summary>
    private static readonly Func<int, Array>? Allocate = ElementSize == 0 ? null : CreateAllocator();

    /// <summary>The serialized size of <paramref name="value"/>, which must be a non-null <typeparamref name="T"/> array.</summary>
    public static long SerializedSize(T value) => 4 + ((long)((Array)(object)value!).Length * ElementSize);

    /// <summary>Writes <paramref name="value"/> as MemoryPack does, into <paramref name="destination"/> of <see cref="SerializedSize"/> bytes.</summary>
    public static void Write(T value, Span<byte> destination, Action<ReadOnlySpan<byte>, Span<byte>> copy)
    {
        var array = (Array)(object)value!;
        BinaryPrimitives.WriteInt32LittleEndian(destination, array.Length);
        var source = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(array), destination.Length - 4);
        copy(source, destination[4..]);
    }

    /// <summary>
    /// Reads a raw array from <paramref name="payload"/> (as MemoryPack would, but into an uninitialized array, with
    /// <paramref name="copy"/>); false when the payload is not a raw array of this type's length, or holds null.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, Action<ReadOnlySpan<byte>, Span<byte>> copy, out T value)
    {
        value = default!;
        if (Allocate is null || payload.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(payload) is var length && length < 0 ||
            (long)length * ElementSize != payload.Length - 4)
        {
            return false;
        }

        var array = Allocate(length);
        copy(payload[4..], MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), payload.Length - 4));
        value = (T)(object)array;
        return true;
    }

    private static Func<int, Array> CreateAllocator()
    {
        var method = typeof(GC).GetMethod(nameof(GC.AllocateUninitializedArray))!.MakeGenericMethod(typeof(T).GetElementType()!);
        return length => (Array)method.Invoke(null, [length, false])!;
    }

    private static int Probe()
    {
        var type = typeof(T);
        if (!type.IsSZArray || type.GetElementType() is not { } element)
        {
            return 0;
        }

        try
        {
            var containsReferences = (bool)typeof(RuntimeHelpers).GetMethod(nameof(RuntimeHelpers.IsReferenceOrContainsReferences))!
                .MakeGenericMethod(element).Invoke(null, null)!;
            if (containsReferences)
            {
                return 0;
            }

            var size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(element).Invoke(null, null)!;
            var sample = (T)(object)Array.CreateInstance(element, 3);
            var bytes = MemoryPackSerializer.Serialize(sample);
            return bytes.Length == 4 + (3 * size) && BinaryPrimitives.ReadInt32LittleEndian(bytes) == 3 ? size : 0;
        }
        catch (Exception e) when (e is TargetInvocationException or MemoryPackSerializationException or NotSupportedException or ArgumentException)
        {
            return 0;
        }
    }
}
