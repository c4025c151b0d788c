using MemoryPack;
using Ray.Core;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>Views over serialized arrays, and the raw-array path that writes large arrays straight into the store.</summary>
public sealed class ArrayViewTests
{
    [Fact]
    public void A_view_reads_the_serialized_elements_in_place()
    {
        var bytes = MemoryPackSerializer.Serialize(new[] { 1.5, 2.5, 3.5 });
        using var view = ArrayView<double>.Create(ObjectId.Nil, bytes, null);
        Assert.Equal(3, view.Length);
        Assert.Equal(2.5, view[1]);
        Assert.Equal([1.5, 2.5, 3.5], view.ToArray());
        Assert.Equal([1.5, 2.5, 3.5], view.Memory.ToArray());
        var sum = 0.0;
        foreach (var value in view)
        {
            sum += value;
        }

        Assert.Equal(7.5, sum);
    }

    [Fact]
    public void Bytes_that_are_not_an_array_of_the_element_type_are_refused()
    {
        var doubles = MemoryPackSerializer.Serialize(new[] { 1.0, 2.0 });
        Assert.Contains("not an array of Int64", Assert.Throws<RaySerializationException>(() => ArrayView<long>.Create(ObjectId.Nil, doubles[..^1], null)).Message);
        Assert.Throws<RaySerializationException>(() => ArrayView<int>.Create(ObjectId.Nil, MemoryPackSerializer.Serialize("text"), null));
        Assert.Contains("null array", Assert.Throws<RaySerializationException>(() => ArrayView<int>.Create(ObjectId.Nil, MemoryPackSerializer.Serialize((int[]?)null), null)).Message);
    }

    [Fact]
    public void Disposing_releases_once_and_closes_the_view()
    {
        var releases = 0;
        var view = ArrayView<int>.Create(ObjectId.Nil, MemoryPackSerializer.Serialize(new[] { 1 }), new Release(() => releases++));
        view.Dispose();
        view.Dispose();
        Assert.Equal(1, releases);
        Assert.True(view.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => view.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => view.Memory.Length);
    }

    [Fact]
    public void Raw_arrays_are_written_exactly_as_MemoryPack_writes_them()
    {
        AssertRaw(new[] { 1.0, -2.0, double.NaN });
        AssertRaw(new[] { 1, 2, 3 });
        AssertRaw(new byte[] { 9, 8 });
        AssertRaw(new[] { true, false });
        AssertRaw(new[] { DateTime.UnixEpoch });
        AssertRaw(Array.Empty<long>());
        Assert.Equal(0, RawArray<string[]>.ElementSize);
        Assert.Equal(0, RawArray<List<int>>.ElementSize);
        Assert.Equal(0, RawArray<int>.ElementSize);
    }

    private static void AssertRaw<T>(T[] value)
    {
        Assert.NotEqual(0, RawArray<T[]>.ElementSize);
        var written = new byte[RawArray<T[]>.SerializedSize(value)];
        RawArray<T[]>.Write(value, written, static (source, destination) => source.CopyTo(destination));
        Assert.Equal(MemoryPackSerializer.Serialize(value), written);
    }

    private sealed class Release(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
