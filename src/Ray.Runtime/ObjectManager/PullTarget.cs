namespace Ray.ObjectManager;

/// <summary>
/// Where one range of a pull goes: payload bytes [<see cref="Position"/>, <see cref="End"/>) of an object of
/// <see cref="Size"/> bytes, in the store region being filled, arriving in order. The position survives a failed
/// location, so that the next resumes where it stopped.
/// </summary>
/// <param name="payload">The object's payload in the region being filled.</param>
/// <param name="size">The payload's size, which the serving node must confirm.</param>
/// <param name="position">Where the range starts.</param>
/// <param name="end">Where it ends.</param>
internal sealed class PullTarget(Memory<byte> payload, long size, long position, long end)
{
    public long Size { get; } = size;

    /// <summary>How far the bytes arrived.</summary>
    public long Position { get; private set; } = position;

    public long End { get; } = end;

    /// <summary>The bytes still due, to read into.</summary>
    public Memory<byte> Remaining => payload[(int)Position..(int)End];

    /// <summary><paramref name="count"/> more bytes arrived at <see cref="Position"/>.</summary>
    public void Advance(int count) => Position += count;
}
