using System.Runtime.InteropServices;

namespace Ray.Infrastructure;

/// <summary>
/// Releases the counted reference of every <see cref="ObjectRef"/> that was collected, without a finalizer per
/// reference. Each tracked reference has a weak GC handle; after every garbage collection the handles of the
/// generations it collected are looked at, and the ids whose reference is gone are released through their runtime.
/// </summary>
/// <remarks>
/// <para>
/// A finalizer per reference was the first design, and on the actor rows the largest single cost in the calling
/// process: a finalizable object is allocated on the allocator's slow path, survives its first collection on the
/// finalization queue (copied into the next generation) and is then finalized on the finalizer thread, which on a small
/// machine competes for the cores. A weak handle lets the reference die in the collection that finds it unreachable.
/// </para>
/// <para>
/// Two sentinels say when a collection happened: a fresh gen0 object whose finalizer runs after the next collection of
/// any generation (it allocates its successor), and one that re-registers itself and so, once promoted, is finalized
/// only after a full collection, including a background one at its end. The sweeps run on the finalizer thread, as the
/// finalizers did, and only call <see cref="IRayCore.ReleaseReference"/>, which queues. A list per generation keeps a
/// young collection from looking at references that are long-lived: a reference moves to its target's generation's
/// list, and a list is swept only after a collection of its generation.
/// </para>
/// </remarks>
internal static class ReferenceTracker
{
    /// <summary>The most recycled handles kept beyond what the threads' buffers hold; the rest are freed.</summary>
    private const int KeptHandles = 4096;

    /// <summary>The target of a handle whose reference was released explicitly: the sweep only frees the handle.</summary>
    private static readonly object Released = new();

    private static readonly List<Tracked>[] Generations = [[], [], []];

    /// <summary>Held by a sweep; also guards <see cref="Buffers"/>.</summary>
    private static readonly Lock Sweeping = new();

    /// <summary>Every thread's buffer of references tracked since the last sweep.</summary>
    private static readonly List<IncomingBuffer> Buffers = [];

    /// <summary>Handles whose reference is gone, cleared, for the threads' buffers (the sweep's own).</summary>
    private static readonly List<GCHandle> Recycled = [];

    [ThreadStatic]
    private static IncomingBuffer? t_incoming;

    private static int s_watching;
    private static int s_seenGen1;

    /// <summary>The number of references tracked and not yet swept away (tests use it).</summary>
    internal static int Count
    {
        get
        {
            lock (Sweeping)
            {
                var count = Generations[0].Count + Generations[1].Count + Generations[2].Count;
                foreach (var buffer in Buffers)
                {
                    lock (buffer.Gate)
                    {
                        count += buffer.Items.Count;
                    }
                }

                return count;
            }
        }
    }

    /// <summary>
    /// Tracks <paramref name="reference"/>: once it is collected, <paramref name="core"/> is told to release
    /// <paramref name="id"/>. Returns the handle that <see cref="Untrack"/> takes.
    /// </summary>
    public static nint Track(ObjectRef reference, ObjectId id, IRayCore core)
    {
        if (s_watching == 0)
        {
            StartWatching();
        }

        var incoming = t_incoming ?? AddBuffer();

        // Only a sweep contends for this lock, and only to swap the buffer's lists.
        lock (incoming.Gate)
        {
            var handles = incoming.Handles;
            GCHandle handle;
            if (handles.Count > 0)
            {
                handle = handles[^1];
                handles.RemoveAt(handles.Count - 1);
                handle.Target = reference;
            }
            else
            {
                handle = GCHandle.Alloc(reference, GCHandleType.Weak);
            }

            incoming.Items.Add(new Tracked(handle, id, core));
            return GCHandle.ToIntPtr(handle);
        }
    }

    /// <summary>The reference was released explicitly: the next sweep frees its handle and releases nothing.</summary>
    public static void Untrack(nint handle)
    {
        var tracked = GCHandle.FromIntPtr(handle);
        tracked.Target = Released;
    }

    private static IncomingBuffer AddBuffer()
    {
        var buffer = new IncomingBuffer(Thread.CurrentThread);
        lock (Sweeping)
        {
            Buffers.Add(buffer);
        }

        return t_incoming = buffer;
    }

    private static void StartWatching()
    {
        if (Interlocked.Exchange(ref s_watching, 1) == 0)
        {
            _ = new CollectionWatch();
            _ = new FullCollectionWatch();
        }
    }

    /// <summary>Sweeps after a collection; <paramref name="full"/> after a full one, when every list is swept.</summary>
    private static void Sweep(bool full)
    {
        lock (Sweeping)
        {
            TakeIncoming(Generations[0]);
            if (full)
            {
                Sweep(2);
            }

            // Gen1 collections are never background ones, so their dead handles are already cleared here.
            var gen1Count = GC.CollectionCount(1);
            if (full || gen1Count != s_seenGen1)
            {
                s_seenGen1 = gen1Count;
                Sweep(1);
            }

            Sweep(0);
            HandOutRecycled();
        }
    }

    /// <summary>Moves every thread's new references to the gen0 list; each buffer's lock is held for a swap only.</summary>
    private static void TakeIncoming(List<Tracked> gen0)
    {
        for (var i = Buffers.Count - 1; i >= 0; i--)
        {
            var buffer = Buffers[i];
            List<Tracked> taken;
            lock (buffer.Gate)
            {
                taken = buffer.Items;
                buffer.Items = buffer.SpareItems;
                if (buffer.Handles.Count == 0)
                {
                    (buffer.Handles, buffer.SpareHandles) = (buffer.SpareHandles, buffer.Handles);
                }
            }

            buffer.LastTaken = taken.Count;
            gen0.AddRange(CollectionsMarshal.AsSpan(taken));
            taken.Clear();
            buffer.SpareItems = taken;

            // A thread that ended adds nothing more (a new thread gets a buffer of its own).
            if (!buffer.Owner.IsAlive)
            {
                Buffers.RemoveAt(i);
                Recycled.AddRange(CollectionsMarshal.AsSpan(buffer.Handles));
                Recycled.AddRange(CollectionsMarshal.AsSpan(buffer.SpareHandles));
            }
        }
    }

    /// <summary>
    /// Gives each thread's buffer as many recycled handles as it tracked since the last sweep (freeing and allocating
    /// handles takes the runtime's handle-table lock; setting a handle's target does not), and frees the surplus.
    /// </summary>
    private static void HandOutRecycled()
    {
        foreach (var buffer in Buffers)
        {
            var spare = buffer.SpareHandles;
            var wanted = Math.Min(buffer.LastTaken - spare.Count, Recycled.Count);
            if (wanted > 0)
            {
                spare.AddRange(CollectionsMarshal.AsSpan(Recycled)[^wanted..]);
                Recycled.RemoveRange(Recycled.Count - wanted, wanted);
            }
        }

        for (var i = KeptHandles; i < Recycled.Count; i++)
        {
            Recycled[i].Free();
        }

        if (Recycled.Count > KeptHandles)
        {
            Recycled.RemoveRange(KeptHandles, Recycled.Count - KeptHandles);
        }
    }

    private static void Sweep(int generation)
    {
        var list = Generations[generation];
        var entries = CollectionsMarshal.AsSpan(list);
        var kept = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            var tracked = entries[i];
            var handle = tracked.Handle;
            var target = handle.Target;
            if (target is null || ReferenceEquals(target, Released))
            {
                if (target is null)
                {
                    Release(tracked);
                }
                else
                {
                    handle.Target = null;
                }

                Recycled.Add(handle);
                continue;
            }

            var older = Math.Min(GC.GetGeneration(target), 2);
            if (older > generation)
            {
                Generations[older].Add(tracked);
                continue;
            }

            entries[kept++] = tracked;
        }

        list.RemoveRange(kept, list.Count - kept);
    }

    private static void Release(Tracked tracked)
    {
        try
        {
            tracked.Core.ReleaseReference(tracked.Id);
        }
        catch (Exception)
        {
            // The finalizer thread must not throw (it would end the process); a runtime being torn down may refuse.
        }
    }

    private readonly record struct Tracked(GCHandle Handle, ObjectId Id, IRayCore Core);

    /// <summary>
    /// One thread's references tracked since the last sweep, and the handles recycled for it. The owning thread uses
    /// <see cref="Items"/> and <see cref="Handles"/> under <see cref="Gate"/>; the spares belong to the sweep.
    /// </summary>
    private sealed class IncomingBuffer(Thread owner)
    {
        public Lock Gate { get; } = new();

        public Thread Owner { get; } = owner;

        public List<Tracked> Items { get; set; } = [];

        public List<GCHandle> Handles { get; set; } = [];

        public List<Tracked> SpareItems { get; set; } = [];

        public List<GCHandle> SpareHandles { get; set; } = [];

        /// <summary>How many references the thread tracked between the last two sweeps: the handles it gets back.</summary>
        public int LastTaken { get; set; }
    }

    /// <summary>Finalized after the next collection of any generation; allocates its successor first.</summary>
    private sealed class CollectionWatch
    {
        ~CollectionWatch()
        {
            if (Environment.HasShutdownStarted)
            {
                return;
            }

            _ = new CollectionWatch();
            Sweep(full: false);
        }
    }

    /// <summary>Re-registers itself, so once in gen2 it is finalized only after full collections.</summary>
    private sealed class FullCollectionWatch
    {
        ~FullCollectionWatch()
        {
            if (Environment.HasShutdownStarted)
            {
                return;
            }

            GC.ReRegisterForFinalize(this);
            Sweep(full: true);
        }
    }
}
