using System.Collections.Concurrent;
using System.IO.Compression;

namespace Ray.Packages;

/// <summary>
/// A node's packages, extracted: each job's code in <c>{root}/{id}/</c>, where its workers load it from. A package is
/// downloaded once however many workers and jobs ask at the same time, checked against its id, extracted into a
/// temporary directory and renamed into place, so an interrupted extraction never looks complete; after a restart an
/// extracted package is used again. Packages are never evicted (a job's build is small next to the store).
/// </summary>
internal sealed class PackageCache(string root)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _pending = new();

    public string Root { get; } = root;

    /// <summary>The local directory of package <paramref name="id"/>, fetching it with <paramref name="download"/> if needed.</summary>
    /// <exception cref="InvalidDataException">The download does not hold the package it was asked for.</exception>
    public Task<string> EnsureAsync(string id, Func<Stream, CancellationToken, Task> download, CancellationToken cancellationToken)
    {
        if (!PackageHash.IsValid(id))
        {
            throw new InvalidDataException($"'{id}' is not a package id (64 hex digits).");
        }

        var directory = Path.Combine(Root, id);
        if (System.IO.Directory.Exists(directory))
        {
            return Task.FromResult(directory);
        }

        var pending = _pending.GetOrAdd(id, _ => new Lazy<Task<string>>(() => FetchAsync(id, directory, download, cancellationToken)));
        return WaitAsync(id, pending);
    }

    private async Task<string> WaitAsync(string id, Lazy<Task<string>> pending)
    {
        try
        {
            return await pending.Value.ConfigureAwait(false);
        }
        catch
        {
            // A failed fetch is not remembered: the next request tries again.
            _pending.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(id, pending));
            throw;
        }
    }

    private async Task<string> FetchAsync(string id, string directory, Func<Stream, CancellationToken, Task> download, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Root);
        var suffix = Guid.NewGuid().ToString("n");
        var zipPath = Path.Combine(Root, $"{id}.{suffix}.zip");
        var extracting = Path.Combine(Root, $"{id}.{suffix}.extracting");
        try
        {
            await using (var file = new FileStream(zipPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await download(file, cancellationToken).ConfigureAwait(false);
            }

            var actual = await PackageHash.OfZipAsync(zipPath, cancellationToken).ConfigureAwait(false);
            if (actual != id)
            {
                throw new InvalidDataException($"The package downloaded as {id} holds {actual} instead.");
            }

            Extract(zipPath, extracting);
            try
            {
                System.IO.Directory.Move(extracting, directory);
            }
            catch (IOException) when (System.IO.Directory.Exists(directory))
            {
                // Another process of this node extracted it first: theirs is the same content.
            }

            return directory;
        }
        finally
        {
            File.Delete(zipPath);
            if (System.IO.Directory.Exists(extracting))
            {
                System.IO.Directory.Delete(extracting, recursive: true);
            }
        }
    }

    /// <summary>Extracts every entry under <paramref name="destination"/>; an entry whose path would leave it is refused.</summary>
    private static void Extract(string zipPath, string destination)
    {
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        System.IO.Directory.CreateDirectory(root);
        using var zip = ZipFile.OpenRead(zipPath);
        foreach (var entry in zip.Entries)
        {
            var target = Path.GetFullPath(Path.Combine(root, entry.FullName));
            if (!target.StartsWith(root, StringComparison.Ordinal) || entry.FullName.EndsWith('/'))
            {
                if (entry.FullName.EndsWith('/') && target.StartsWith(root, StringComparison.Ordinal))
                {
                    continue;
                }

                throw new InvalidDataException($"The package has an entry '{entry.FullName}' that would be written outside its directory.");
            }

            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            entry.ExtractToFile(target, overwrite: false);
        }
    }
}
