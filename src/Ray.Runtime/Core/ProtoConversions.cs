using Google.Protobuf;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>Conversions between runtime values and their protobuf forms, without copying payloads.</summary>
internal static class ProtoConversions
{
    public static ObjectIdProto ToProto(this ObjectId id)
    {
        var task = id.Task;
        return new ObjectIdProto { Process = task.Process, Sequence = task.Sequence, Job = task.Job.Value, Index = id.Index };
    }

    public static ObjectId ToObjectId(this ObjectIdProto? proto) =>
        proto is null ? ObjectId.Nil : new ObjectId(new TaskId(new JobId(proto.Job), proto.Process, proto.Sequence), proto.Index);

    /// <summary>Whether the wire id names <paramref name="id"/>, without making an <see cref="ObjectId"/> of it.</summary>
    public static bool Is(this ObjectIdProto proto, ObjectId id) => proto.ToObjectId() == id;

    public static OwnerProto ToProto(this OwnerAddress owner) =>
        new() { Node = ByteString.CopyFrom(owner.Node.ToByteArray()), Pid = owner.ProcessId };

    public static OwnerAddress ToOwner(this OwnerProto? proto) =>
        proto is null || proto.Node.Length != 16 ? OwnerAddress.None : new OwnerAddress(new Guid(proto.Node.Span), proto.Pid);

    // The payload is immutable once created, so protobuf may reference it instead of copying.
    public static ByteString Wrap(ReadOnlyMemory<byte> payload) => UnsafeByteOperations.UnsafeWrap(payload);
}
