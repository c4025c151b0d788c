using Google.Protobuf;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>Conversions between runtime values and their protobuf forms, without copying payloads.</summary>
internal static class ProtoConversions
{
    public static ObjectIdProto ToProto(this ObjectId id) => new() { High = id.High, Low = id.Low };

    public static ObjectId ToObjectId(this ObjectIdProto? proto) =>
        proto is null ? ObjectId.Nil : new ObjectId(proto.High, proto.Low);

    // The payload is immutable once created, so protobuf may reference it instead of copying.
    public static ByteString Wrap(ReadOnlyMemory<byte> payload) => UnsafeByteOperations.UnsafeWrap(payload);
}
