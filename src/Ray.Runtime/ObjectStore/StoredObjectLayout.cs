using System.Buffers.Binary;

namespace Ray.ObjectStore;

/// <summary>
/// How one object sits in the shared-memory arena: a 60-byte header, the payload (the object's MemoryPack bytes)
/// and an 8-byte trailer, in a region that starts on a 64-byte boundary. The header is 60 bytes so that the
/// elements of a serialized array (after MemoryPack's 4-byte count) start on a cache line. A reader checks the
/// header and the trailer before it trusts the payload, so a region that was never sealed, was overwritten, or
/// belongs to another object fails with a clear error instead of being misread.
/// </summary>
internal static class StoredObjectLayout
{
    public const int HeaderSize = 60;

    public const int TrailerSize = 8;

    public const int Alignment = 64;

    /// <summary>"RAYGENOB" little-endian.</summary>
    private const ulong HeaderMagic = 0x424F4E4547594152;

    /// <summary>"RAYGENTR" little-endian; stored xor a key of the id, which ties the trailer to its object.</summary>
    private const ulong TrailerMagic = 0x52544E4547594152;

    private const int FormatVersion = 2;

    // Header fields: magic (8), version (4), flags (4), id (24), payload size (8), reserved (8), checksum (4).
    private const int VersionOffset = 8;
    private const int IdOffset = 16;
    private const int SizeOffset = IdOffset + ObjectId.Size;
    private const int ChecksumOffset = 56;

    /// <summary>The bytes a region needs for <paramref name="payloadSize"/> bytes of payload, rounded up to the alignment.</summary>
    public static long RegionSize(long payloadSize) =>
        (HeaderSize + payloadSize + TrailerSize + Alignment - 1) / Alignment * Alignment;

    /// <summary>Writes the header and the trailer around a payload already in place: the object is then sealed.</summary>
    public static void Seal(Span<byte> region, ObjectId id, long payloadSize)
    {
        var header = region[..HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, HeaderMagic);
        BinaryPrimitives.WriteInt32LittleEndian(header[VersionOffset..], FormatVersion);
        id.WriteTo(header.Slice(IdOffset, ObjectId.Size));
        BinaryPrimitives.WriteInt64LittleEndian(header[SizeOffset..], payloadSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChecksumOffset..], Checksum(header[..ChecksumOffset]));
        BinaryPrimitives.WriteUInt64LittleEndian(region.Slice((int)(HeaderSize + payloadSize), TrailerSize), TrailerMagic ^ TrailerKey(id));
    }

    /// <summary>Null when the region holds sealed object <paramref name="id"/> of <paramref name="payloadSize"/> bytes; else what is wrong.</summary>
    public static string? Check(ReadOnlySpan<byte> region, ObjectId id, long payloadSize)
    {
        if (region.Length < HeaderSize + payloadSize + TrailerSize)
        {
            return $"its region of {region.Length} bytes is shorter than the {HeaderSize + payloadSize + TrailerSize} bytes the object needs";
        }

        var header = region[..HeaderSize];
        if (BinaryPrimitives.ReadUInt64LittleEndian(header) != HeaderMagic)
        {
            return "its segment has no valid header (it was never sealed, or it was overwritten)";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[ChecksumOffset..]) != Checksum(header[..ChecksumOffset]))
        {
            return "its segment's header fails its checksum (the header is corrupted)";
        }

        if (BinaryPrimitives.ReadInt32LittleEndian(header[VersionOffset..]) is var version and not FormatVersion)
        {
            return $"its segment has format version {version}; this runtime reads version {FormatVersion}";
        }

        var storedId = ObjectId.ReadFrom(header.Slice(IdOffset, ObjectId.Size));
        if (storedId != id)
        {
            return $"its segment holds object {storedId} instead (a stale or forged location)";
        }

        if (BinaryPrimitives.ReadInt64LittleEndian(header[SizeOffset..]) is var size && size != payloadSize)
        {
            return $"its segment says it holds {size} bytes, not the {payloadSize} bytes recorded for it";
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(region.Slice((int)(HeaderSize + payloadSize), TrailerSize)) != (TrailerMagic ^ TrailerKey(id)))
        {
            return "its segment's trailer is wrong (the object was truncated or written past its end)";
        }

        return null;
    }

    /// <summary>What ties the trailer to the object: its task's counter and its index, which differ between neighbours.</summary>
    private static ulong TrailerKey(ObjectId id) => id.Task.Sequence ^ ((ulong)id.Index << 48) ^ id.Task.Process;

    /// <summary>FNV-1a, 32 bits: enough to tell a damaged header from a sound one.</summary>
    private static uint Checksum(ReadOnlySpan<byte> bytes)
    {
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
