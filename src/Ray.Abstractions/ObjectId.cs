using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Ray;

/// <summary>The identity of an object in a RayGen cluster: 16 bytes, unique across processes.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct ObjectId(ulong High, ulong Low)
{
    private static readonly ulong ProcessPrefix = CreateProcessPrefix();
    private static long _counter;

    /// <summary>The id that refers to nothing.</summary>
    public static ObjectId Nil => default;

    /// <summary>Whether this is <see cref="Nil"/>.</summary>
    public bool IsNil => High == 0 && Low == 0;

    /// <summary>A new id, unique in the cluster: a random per-process prefix and a per-process counter.</summary>
    public static ObjectId New() => new(ProcessPrefix, (ulong)Interlocked.Increment(ref _counter));

    /// <summary>Writes the id into 16 bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, High);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Low);
    }

    /// <summary>Reads an id from 16 bytes.</summary>
    public static ObjectId ReadFrom(ReadOnlySpan<byte> source)
    {
        if (source.Length != 16)
        {
            throw new FormatException($"An object id is 16 bytes long, not {source.Length}.");
        }

        return new ObjectId(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{High:x16}{Low:x16}");

    private static ulong CreateProcessPrefix()
    {
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        var prefix = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return prefix == 0 ? 1 : prefix;
    }
}
