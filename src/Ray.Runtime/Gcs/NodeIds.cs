using Google.Protobuf;

namespace Ray.Gcs;

/// <summary>Node ids as the wire carries them (16 bytes) and as people read them (32 hex digits, <see cref="Guid"/>'s "n").</summary>
internal static class NodeIds
{
    public static ByteString ToBytes(Guid node) => ByteString.CopyFrom(node.ToByteArray());

    public static Guid ToGuid(ByteString bytes) => bytes.Length == 16 ? new Guid(bytes.Span) : Guid.Empty;

    public static string Format(ByteString bytes) => ToGuid(bytes).ToString("n");
}
