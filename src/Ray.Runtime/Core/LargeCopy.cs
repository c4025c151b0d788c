namespace Ray.Core;

/// <summary>
/// Copies large buffers into the object store on several cores at once, as Ray's plasma does: one core rarely
/// saturates memory bandwidth. Small copies (and machines with one core) stay on the calling thread.
/// </summary>
internal static unsafe class LargeCopy
{
    /// <summary>Below this, splitting costs more than it gains.</summary>
    public const int ParallelThreshold = 8 << 20;

    private const int MaxThreads = 4;

    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var threads = Math.Min(MaxThreads, Environment.ProcessorCount);
        if (source.Length < ParallelThreshold || threads < 2)
        {
            source.CopyTo(destination);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length);
        fixed (byte* from = source)
        fixed (byte* to = destination)
        {
            var length = (long)source.Length;

            // Chunks on 4 KiB boundaries, so no two threads write the same page.
            var chunk = ((length / threads) + 4095) & ~4095L;
            var (sourceAddress, destinationAddress) = ((nint)from, (nint)to);
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var start = i * chunk;
                var count = Math.Min(chunk, length - start);
                if (count > 0)
                {
                    Buffer.MemoryCopy((byte*)sourceAddress + start, (byte*)destinationAddress + start, count, count);
                }
            });
        }
    }
}
