using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Ray;

/// <summary>
/// The identity of an object in a RayGen cluster, 24 bytes: the <see cref="TaskId"/> of the task that makes it (its
/// job, the submitting process's random number and counter) and the index of the value among the task's outputs
/// (1 for a task's return value, 0 for a <c>Put</c>). Unique across processes and machines without coordination.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct ObjectId : IEquatable<ObjectId>
{
    /// <summary>The size of an id on the wire and in the object store.</summary>
    public const int Size = 24;

    private static readonly ulong ProcessPrefix = CreateProcessPrefix();
    private static long s_counter;

    private readonly ulong _process;
    private readonly ulong _sequence;
    private readonly uint _job;
    private readonly uint _index;

    /// <summary>The object <paramref name="index"/> of task <paramref name="task"/>.</summary>
    public ObjectId(TaskId task, uint index)
    {
        _process = task.Process;
        _sequence = task.Sequence;
        _job = task.Job.Value;
        _index = index;
    }

    /// <summary>The id that refers to nothing.</summary>
    public static ObjectId Nil => default;

    /// <summary>Whether this is <see cref="Nil"/>.</summary>
    public bool IsNil => _process == 0 && _sequence == 0 && _job == 0 && _index == 0;

    /// <summary>The job the object belongs to.</summary>
    public JobId Job => new(_job);

    /// <summary>The task (or <c>Put</c>) that makes it.</summary>
    public TaskId Task => new(new JobId(_job), _process, _sequence);

    /// <summary>Which of the task's outputs it is: 1 for the return value, 0 for a <c>Put</c>.</summary>
    public uint Index => _index;

    /// <summary>
    /// A new id for a value made outside a runtime's own counter (tests and tools): no job, this process's random
    /// number, and a process-wide counter; unique in the cluster.
    /// </summary>
    public static ObjectId New() => new(new TaskId(JobId.Nil, ProcessPrefix, (ulong)Interlocked.Increment(ref s_counter)), 0);

    /// <summary>Writes the id into <see cref="Size"/> bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _process);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], _job);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], _index);
    }

    /// <summary>Reads an id from <see cref="Size"/> bytes.</summary>
    public static ObjectId ReadFrom(ReadOnlySpan<byte> source)
    {
        if (source.Length != Size)
        {
            throw new FormatException($"An object id is {Size} bytes long, not {source.Length}.");
        }

        var task = new TaskId(
            new JobId(BinaryPrimitives.ReadUInt32LittleEndian(source[16..])),
            BinaryPrimitives.ReadUInt64LittleEndian(source),
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
        return new ObjectId(task, BinaryPrimitives.ReadUInt32LittleEndian(source[20..]));
    }

    /// <inheritdoc/>
    public bool Equals(ObjectId other) =>
        _sequence == other._sequence && _process == other._process && _job == other._job && _index == other._index;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ObjectId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_process, _sequence, _job, _index);

    /// <summary>Whether two ids are the same.</summary>
    public static bool operator ==(ObjectId left, ObjectId right) => left.Equals(right);

    /// <summary>Whether two ids differ.</summary>
    public static bool operator !=(ObjectId left, ObjectId right) => !left.Equals(right);

    /// <summary>48 hex digits: the task id, then the index.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Task}{_index:x8}");

    private static ulong CreateProcessPrefix()
    {
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        var prefix = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return prefix == 0 ? 1 : prefix;
    }
}
