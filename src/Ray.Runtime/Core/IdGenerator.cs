using System.Buffers.Binary;

namespace Ray.Core;

/// <summary>
/// Makes the ids of what one process creates, for one job: each task, actor and <c>Put</c> gets a task id of its own
/// (the job, this process's random 64-bit number, and a counter), and a task's return value is index 1 of it. No
/// coordination is needed for ids to be unique in the cluster.
/// </summary>
internal sealed class IdGenerator
{
    private readonly ulong _process;
    private long _sequence;

    public IdGenerator(JobId job)
    {
        Job = job;
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        _process = BinaryPrimitives.ReadUInt64LittleEndian(bytes) | 1;
    }

    public JobId Job { get; }

    public TaskId NextTask() => new(Job, _process, (ulong)Interlocked.Increment(ref _sequence));

    /// <summary>The id of a task's return value.</summary>
    public ObjectId NextReturn() => NextTask().ReturnId();

    /// <summary>The id of a <c>Put</c> value: index 0 of a task id of its own, which no task runs.</summary>
    public ObjectId NextPut() => NextTask().ReturnId(0);

    /// <summary>The id of a new actor: its creation task's.</summary>
    public ActorId NextActor() => new(NextTask().ReturnId(0));
}
