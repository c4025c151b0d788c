using System.Buffers;
using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ray;

/// <summary>
/// A read-only view of an array of unmanaged elements (<c>double[]</c>, <c>int[]</c>, <c>byte[]</c>, …) where it
/// is stored: for a large object, the node's shared-memory object store, mapped into this process. Opening a view
/// copies nothing, so a gigabyte is as quick to open as a kilobyte.
/// </summary>
/// <remarks>
/// <para>
/// Get one with <see cref="ArrayViewExtensions.GetView{T}(ObjectRef{T[]})"/> (or <c>GetViewAsync</c>) on an
/// <see cref="ObjectRef{T}"/> of an array, and dispose it when done: while a view is open its object stays in
/// memory (it is neither spilled to disk nor freed), and after <see cref="Dispose"/> its memory may be reused.
/// </para>
/// <para>
/// A remote function may take an <see cref="ArrayView{T}"/> parameter: callers pass a <c>T[]</c> or an
/// <c>ObjectRef&lt;T[]&gt;</c>, and the function reads the stored array without a copy. Such a view belongs to the
/// call: the runtime closes it when the function returns, so do not keep it (or its <see cref="Memory"/>) after that.
/// </para>
/// </remarks>
/// <example><code>
/// ObjectRef&lt;double[]&gt; data = ray.Put(samples);           // one copy into shared memory
/// using (var view = data.GetView())                        // no copy
/// {
///     Console.WriteLine(view.Span[0]);
/// }
/// </code></example>
/// <typeparam name="T">The element type; unmanaged (no references), so its bytes can be read in place.</typeparam>
public sealed class ArrayView<T> : IDisposable
    where T : unmanaged
{
    /// <summary>MemoryPack writes an array as its element count (a little-endian int) followed by the elements.</summary>
    private const int HeaderSize = 4;

    private readonly ReadOnlyMemory<byte> _elements;
    private readonly IDisposable? _release;
    private int _disposed;

    private ArrayView(ObjectId objectId, ReadOnlyMemory<byte> elements, int length, IDisposable? release)
    {
        ObjectId = objectId;
        _elements = elements;
        Length = length;
        _release = release;
    }

    /// <summary>The object the view reads; <see cref="ObjectId.Nil"/> for a small argument that travelled inline.</summary>
    public ObjectId ObjectId { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>Whether <see cref="Dispose"/> was called (or the call that received the view has returned).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The elements, read in place.</summary>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public ReadOnlySpan<T> Span
    {
        get
        {
            ThrowIfDisposed();
            return MemoryMarshal.Cast<byte, T>(_elements.Span);
        }
    }

    /// <summary>The elements as memory, for APIs that take <see cref="ReadOnlyMemory{T}"/>; valid while the view is open.</summary>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public ReadOnlyMemory<T> Memory
    {
        get
        {
            ThrowIfDisposed();
            return Length == 0 ? ReadOnlyMemory<T>.Empty : new CastMemoryManager(_elements, Length).Memory;
        }
    }

    /// <summary>The element at <paramref name="index"/>.</summary>
    public T this[int index] => Span[index];

    /// <summary>
    /// Creates a view over the MemoryPack bytes of a <typeparamref name="T"/> array (the runtime and generated code
    /// use this). <paramref name="release"/> is disposed with the view.
    /// </summary>
    /// <exception cref="RaySerializationException">The bytes are not an array of <typeparamref name="T"/>.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ArrayView<T> Create(ObjectId objectId, ReadOnlyMemory<byte> payload, IDisposable? release)
    {
        var span = payload.Span;
        var length = span.Length >= HeaderSize ? BinaryPrimitives.ReadInt32LittleEndian(span) : int.MinValue;
        var what = objectId.IsNil ? "The value" : $"Object {objectId}";
        if (length == -1 && span.Length == HeaderSize)
        {
            throw new RaySerializationException($"{what} is a null array; a view needs an array (pass an empty one instead of null).");
        }

        if (length < 0 || (long)length * Unsafe.SizeOf<T>() != span.Length - HeaderSize)
        {
            throw new RaySerializationException(
                $"{what} is not an array of {typeof(T).Name}: it holds {payload.Length} bytes, which is not a {HeaderSize}-byte count followed by " +
                $"{Unsafe.SizeOf<T>()}-byte elements. Read it with Get<{typeof(T).Name}[]>() or check the element type.");
        }

        return new ArrayView<T>(objectId, payload[HeaderSize..], length, release);
    }

    /// <summary>Copies the elements into a new array.</summary>
    public T[] ToArray() => Span.ToArray();

    /// <summary>Enumerates the elements, so that <c>foreach</c> works on the view.</summary>
    public ReadOnlySpan<T>.Enumerator GetEnumerator() => Span.GetEnumerator();

    /// <summary>Closes the view; the object may then be spilled or freed. Calling it again does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _release?.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"ArrayView<{typeof(T).Name}>[{Length}] of object {ObjectId}";

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>Presents bytes as elements without copying; elements need not be aligned on the platforms .NET runs on.</summary>
    private sealed class CastMemoryManager(ReadOnlyMemory<byte> bytes, int length) : MemoryManager<T>
    {
        public override Span<T> GetSpan() => MemoryMarshal.Cast<byte, T>(MemoryMarshal.AsMemory(bytes).Span)[..length];

        public override MemoryHandle Pin(int elementIndex = 0) => bytes[(elementIndex * Unsafe.SizeOf<T>())..].Pin();

        public override void Unpin()
        {
            // The handle returned by Pin releases the bytes itself.
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}

/// <summary>Zero-copy views of stored arrays: <c>GetView</c> and <c>GetViewAsync</c> on <see cref="ObjectRef{T}"/>.</summary>
public static class ArrayViewExtensions
{
    /// <summary>
    /// Waits for the array and opens a view of it where it is stored, without copying it. Dispose the view when done.
    /// Rethrows the producing task's failure as <see cref="ObjectRef{T}.Get()"/> does.
    /// </summary>
    public static ArrayView<T> GetView<T>(this ObjectRef<T[]> reference)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Runtime.GetView<T>(reference, null);
    }

    /// <summary>As <see cref="GetView{T}(ObjectRef{T[]})"/>, or throws <see cref="GetTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static ArrayView<T> GetView<T>(this ObjectRef<T[]> reference, TimeSpan timeout)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Runtime.GetView<T>(reference, timeout);
    }

    /// <summary>Waits for the array and opens a view of it where it is stored, without copying it. Dispose the view when done.</summary>
    public static ValueTask<ArrayView<T>> GetViewAsync<T>(this ObjectRef<T[]> reference, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Runtime.GetViewAsync<T>(reference, cancellationToken);
    }
}
