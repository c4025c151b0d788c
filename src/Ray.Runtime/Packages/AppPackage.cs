using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Ray.Packages;

/// <summary>
/// A driver's application directory as a package: every file the app runs on (assemblies, their deps and runtime
/// configuration, content files), named by a content hash so that an unchanged build is never uploaded twice and two
/// builds never share a name. The hash is over a canonical manifest, one line per file in ordinal path order:
/// relative path (with <c>/</c>), length and SHA-256 of the content. It does not depend on timestamps or zip details,
/// so a store can check a zip it receives against the name it was given.
/// </summary>
internal sealed class AppPackage
{
    private AppPackage(string directory, string id, IReadOnlyList<PackageFile> files)
    {
        Directory = directory;
        Id = id;
        Files = files;
    }

    /// <summary>The application directory.</summary>
    public string Directory { get; }

    /// <summary>The content hash: 64 hex digits.</summary>
    public string Id { get; }

    public IReadOnlyList<PackageFile> Files { get; }

    /// <summary>Describes <paramref name="directory"/>: its files (see <see cref="Includes"/>) and their hash.</summary>
    /// <exception cref="RayException">The directory does not exist.</exception>
    public static async Task<AppPackage> CreateAsync(string directory, CancellationToken cancellationToken)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new RayException($"The application directory '{directory}' does not exist, so the job's code cannot be shipped to the cluster.");
        }

        var paths = System.IO.Directory
            .EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Select(path => (Full: path, Relative: Path.GetRelativePath(directory, path).Replace('\\', '/')))
            .Where(file => Includes(file.Relative))
            .OrderBy(file => file.Relative, StringComparer.Ordinal)
            .ToArray();
        var files = new PackageFile[paths.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, paths.Length), cancellationToken, async (i, ct) =>
        {
            await using var stream = File.OpenRead(paths[i].Full);
            var hash = await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false);
            files[i] = new PackageFile(paths[i].Relative, stream.Length, Convert.ToHexStringLower(hash));
        }).ConfigureAwait(false);
        return new AppPackage(directory, PackageHash.Of(files), files);
    }

    /// <summary>
    /// Whether a file belongs in the package: everything under the directory except build leftovers that the app
    /// never loads (<c>obj/</c>, test results, logs) and sockets or other special files.
    /// </summary>
    public static bool Includes(string relativePath) =>
        !relativePath.StartsWith("obj/", StringComparison.Ordinal) &&
        !relativePath.StartsWith("TestResults/", StringComparison.Ordinal) &&
        !relativePath.EndsWith(".log", StringComparison.OrdinalIgnoreCase) &&
        !relativePath.EndsWith(".sock", StringComparison.Ordinal);

    /// <summary>Writes the package as a zip to <paramref name="destination"/>, entries in manifest order.</summary>
    public async Task WriteZipAsync(Stream destination, CancellationToken cancellationToken)
    {
        using var zip = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var file in Files)
        {
            var entry = zip.CreateEntry(file.Path, CompressionLevel.Fastest);
            await using var source = File.OpenRead(Path.Combine(Directory, file.Path));
            await using var target = entry.Open();
            await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>One file of a package: its path relative to the application directory, its length and its SHA-256.</summary>
internal sealed record PackageFile(string Path, long Length, string Sha256);

/// <summary>The content hash of a package, from its files (<see cref="AppPackage"/>) or from a zip of it.</summary>
internal static class PackageHash
{
    public static string Of(IEnumerable<PackageFile> files)
    {
        var manifest = new StringBuilder();
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            manifest.Append(file.Path).Append('\0').Append(file.Length).Append('\0').Append(file.Sha256).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest.ToString())));
    }

    /// <summary>The hash of what a zip holds: the hash of the package it was made from, if it is whole and unaltered.</summary>
    /// <exception cref="InvalidDataException">It is not a zip, or an entry is damaged.</exception>
    public static async Task<string> OfZipAsync(string zipPath, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(zipPath);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
        var files = new List<PackageFile>(zip.Entries.Count);
        foreach (var entry in zip.Entries)
        {
            await using var content = entry.Open();
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long length = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
            }

            files.Add(new PackageFile(entry.FullName, length, Convert.ToHexStringLower(hash.GetHashAndReset())));
        }

        return Of(files);
    }

    /// <summary>Whether <paramref name="id"/> looks like a package id (64 lowercase hex digits), before it names a file.</summary>
    public static bool IsValid(string id) => id.Length == 64 && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
