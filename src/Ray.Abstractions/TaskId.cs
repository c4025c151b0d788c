using System.Globalization;

namespace Ray;

/// <summary>
/// The identity of a task, an actor call or a <c>Put</c>: its job, the process that made it (a random 64-bit number
/// each process draws at start) and that process's counter. The objects a task returns are named after it
/// (<see cref="ObjectId"/> = task id + return index), so an object's id leads to the task that makes it: its lineage.
/// </summary>
public readonly record struct TaskId(JobId Job, ulong Process, ulong Sequence)
{
    /// <summary>The id of the task's return value (index 1; a <c>Put</c> is index 0 of a task id of its own).</summary>
    public ObjectId ReturnId(uint index = 1) => new(this, index);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Job}{Process:x16}{Sequence:x16}");
}
