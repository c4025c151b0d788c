using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Core;
using Ray.Logging;

namespace Ray.Packages;

/// <summary>
/// A node's cache of job packages: <c>{root}/{id}/</c> holds the package <c>id</c> extracted, and is the application
/// directory the job's workers load from. A package is downloaded once per node, however many workers and jobs ask
/// for it at the same time.
/// </summary>
/// <remarks>
/// <para>
/// A download goes to a temporary zip, is extracted into a temporary directory (both named <c>.partial-{pid}-…</c>
/// under the root) and verified, and only then renamed to <c>{id}</c>: a rename is atomic, so a directory with a
/// package's id is always complete and verified, and a crash mid-way leaves only a temporary entry, which the next
/// cache on the root deletes once the process that made it is gone. Because of that a node that restarts reuses what
/// it extracted before without downloading or hashing it again. Several processes may share a root: they may then
/// download the same package once each, and the first rename wins.
/// </para>
/// <para>
/// Verification hashes each file as it is written, so what the id vouches for is exactly what lies on disk; entries
/// that would land outside the directory (zip-slip) are refused before anything is written. Nothing is evicted yet:
/// the cache grows by one directory per distinct build that ran on the node, and deleting a package's directory
/// while no job uses it is safe (the next job downloads it again).
/// </para>
/// <para>
/// The files stay writable: a job that writes into its own application directory (workers run there) changes its
/// node's copy, which other jobs of the same build share.
/// </para>
/// </remarks>
internal sealed class PackageCache
{
    private const string PartialPrefix = ".partial-";

    private readonly Dictionary<string, Fetch> _fetches = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    /// <summary>Opens the cache in <paramref name="root"/>, creating it when needed.</summary>
    public PackageCache(string root, ILogger? logger = null)
    {
        Root = Path.GetFullPath(root);
        _logger = logger ?? NullLogger.Instance;
        Directory.CreateDirectory(Root);
        DeleteLeftovers();
    }

    /// <summary>The directory the packages are extracted into.</summary>
    public string Root { get; }

    /// <summary>
    /// Returns the directory that holds the package <paramref name="id"/> extracted, downloading it first when the
    /// node lacks it. Concurrent calls for one id share one download; a caller that cancels stops waiting, and the
    /// download stops when every caller waiting for it has cancelled. A failed download is not remembered: the next
    /// call tries again.
    /// </summary>
    /// <param name="id">The package id.</param>
    /// <param name="download">Writes the package's zip to the stream it is given (<see cref="PackageClient.DownloadAsync"/>, for one).</param>
    /// <param name="cancellationToken">Stops this caller's wait.</param>
    /// <exception cref="InvalidPackageException">
    /// <paramref name="id"/> is not a package id, or what was downloaded is not a valid package, has an entry outside
    /// the package directory, or does not hash to <paramref name="id"/>; nothing is cached.
    /// </exception>
    public async Task<string> EnsureAsync(string id, Func<Stream, CancellationToken, Task> download, CancellationToken cancellationToken = default)
    {
        PackageManifest.ThrowIfInvalidId(id);
        var directory = Path.Combine(Root, id);
        if (Directory.Exists(directory))
        {
            return directory;
        }

        Fetch fetch;
        lock (_fetches)
        {
            if (!_fetches.TryGetValue(id, out fetch!))
            {
                fetch = new Fetch();
                _fetches[id] = fetch;
                var started = fetch;
                fetch.Task = Task.Run(() => FetchAsync(id, directory, started, download));
            }

            fetch.Waiters++;
        }

        try
        {
            return await fetch.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_fetches)
            {
                if (--fetch.Waiters == 0 && !fetch.Task.IsCompleted)
                {
                    // Every caller gave up: stop the download, and let the next caller start a fresh one rather than
                    // join this cancelled one.
                    fetch.Cancellation.Cancel();
                    Forget(id, fetch);
                    _ = fetch.Task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }
            }
        }
    }

    private async Task<string> FetchAsync(string id, string directory, Fetch fetch, Func<Stream, CancellationToken, Task> download)
    {
        var cancellationToken = fetch.Cancellation.Token;
        var partial = Path.Combine(Root, string.Create(CultureInfo.InvariantCulture, $"{PartialPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"));
        try
        {
            if (Directory.Exists(directory))
            {
                // Another cache on this root finished it between the caller's look and this one.
                return directory;
            }

            var started = Stopwatch.GetTimestamp();
            long size;
            var zip = new FileStream(partial + ".zip", FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            await using (zip.ConfigureAwait(false))
            {
                await download(zip, cancellationToken).ConfigureAwait(false);
                size = zip.Length;
                zip.Position = 0;
                var actual = PackageArchive.Read(zip, partial, cancellationToken);
                if (actual != id)
                {
                    throw new InvalidPackageException(
                        $"The package downloaded as {id} holds content that hashes to {actual}; it is not cached.");
                }
            }

            try
            {
                Directory.Move(partial, directory);
            }
            catch (IOException) when (Directory.Exists(directory))
            {
                // Another process on this root renamed its copy first; the content is the same.
            }

            _logger.PackageFetched(id, ByteSize.Format(size), directory, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return directory;
        }
        finally
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }

            lock (_fetches)
            {
                Forget(id, fetch);
            }
        }
    }

    // Called under the lock; a newer fetch of the same id may have taken this one's place.
    private void Forget(string id, Fetch fetch)
    {
        if (_fetches.TryGetValue(id, out var current) && current == fetch)
        {
            _fetches.Remove(id);
        }
    }

    // Temporary entries of processes that are gone: an extraction a crash or a kill interrupted.
    private void DeleteLeftovers()
    {
        foreach (var entry in new DirectoryInfo(Root).EnumerateFileSystemInfos(PartialPrefix + "*"))
        {
            var rest = entry.Name.AsSpan(PartialPrefix.Length);
            var dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || IsRunning(pid))
            {
                continue;
            }

            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }

            _logger.PackageLeftoverDeleted(entry.FullName);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private sealed class Fetch
    {
        public CancellationTokenSource Cancellation { get; } = new();

        public int Waiters { get; set; }

        public Task<string> Task { get; set; } = null!;
    }
}
