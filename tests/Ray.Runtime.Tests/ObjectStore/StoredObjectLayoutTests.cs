using Ray.ObjectStore;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

public sealed class StoredObjectLayoutTests
{
    private static readonly ObjectId Id = new TaskId(new JobId(7), 0x1234, 0x5678).ReturnId();

    [Fact]
    public void A_sealed_region_checks_out_and_its_payload_is_aligned_for_array_elements()
    {
        var region = Sealed(payloadSize: 100);
        Assert.Null(StoredObjectLayout.Check(region, Id, 100));
        Assert.Equal(0, (StoredObjectLayout.HeaderSize + 4) % StoredObjectLayout.Alignment);
        Assert.Equal(192, StoredObjectLayout.RegionSize(100));
        Assert.Equal(0, StoredObjectLayout.RegionSize(1 << 20) % StoredObjectLayout.Alignment);
    }

    [Fact]
    public void A_region_never_sealed_is_refused()
    {
        var region = new byte[StoredObjectLayout.RegionSize(100)];
        region.AsSpan(0, 50).Fill(7);
        Assert.Contains("never sealed", StoredObjectLayout.Check(region, Id, 100));
    }

    [Fact]
    public void Each_damage_is_named()
    {
        var header = Sealed(100);
        header[20] ^= 0xff;
        Assert.Contains("checksum", StoredObjectLayout.Check(header, Id, 100));

        Assert.Contains("holds object", StoredObjectLayout.Check(Sealed(100), new TaskId(new JobId(7), 1, 2).ReturnId(), 100));
        Assert.Contains("not the 99 bytes", StoredObjectLayout.Check(Sealed(100), Id, 99));

        var trailer = Sealed(100);
        trailer[StoredObjectLayout.HeaderSize + 100] ^= 0xff;
        Assert.Contains("trailer", StoredObjectLayout.Check(trailer, Id, 100));

        Assert.Contains("shorter", StoredObjectLayout.Check(Sealed(100).AsSpan(0, 100), Id, 100));
    }

    private static byte[] Sealed(long payloadSize)
    {
        var region = new byte[StoredObjectLayout.RegionSize(payloadSize)];
        region.AsSpan(StoredObjectLayout.HeaderSize, (int)payloadSize).Fill(0x42);
        StoredObjectLayout.Seal(region, Id, payloadSize);
        return region;
    }
}
