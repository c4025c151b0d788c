using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Ray.Packages;

/// <summary>
/// A package on the wire and on disk is a zip of its files. This writes one from a directory and reads one back,
/// verifying that its content hashes to the id it came under, and extracting it when asked.
/// </summary>
internal static class PackageArchive
{
    // Every entry carries the same timestamp (zip's earliest), so the same files always give the same bytes.
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Unix keeps a file's type and mode in the high 16 bits of an entry's external attributes; S_IFREG marks a
    // regular file for the unzip tools that look.
    private const int RegularFileType = 0x8000;

    // Only the permission bits travel: a package never makes set-user-id or set-group-id files on a node.
    private const UnixFileMode PermissionBits = (UnixFileMode)0x1FF;

    private const int BufferSize = 1 << 16;

    /// <summary>
    /// Writes <paramref name="files"/>, read from under <paramref name="root"/>, as a zip to <paramref name="destination"/>:
    /// entries in the order given, the fastest compression (assemblies shrink about in half at a fraction of the cost of
    /// better levels), and each file's Unix permissions so that a bundled executable stays executable.
    /// </summary>
    /// <exception cref="RayException">A file no longer has the content it was hashed with.</exception>
    public static void Write(string root, IReadOnlyList<PackageFile> files, Stream destination, CancellationToken cancellationToken)
    {
        using var zip = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = zip.CreateEntry(file.Path, CompressionLevel.Fastest);
                entry.LastWriteTime = EntryTime;
                if (!OperatingSystem.IsWindows())
                {
                    entry.ExternalAttributes = (RegularFileType | (int)(file.Mode & PermissionBits)) << 16;
                }

                using var output = entry.Open();
                if (file.Length == 0)
                {
                    // Never opened: see AppPackage on why empty files are not read.
                    continue;
                }

                using var input = OpenSource(Path.Combine(root, file.Path));
                var (length, sha256) = Copy(input, output, buffer, cancellationToken);
                if (length != file.Length || sha256 != file.Sha256)
                {
                    throw new RayException(
                        $"'{file.Path}' in '{root}' changed while its package was being written, so the package would not match its id. " +
                        "Package the directory again once nothing writes to it.");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the zip in <paramref name="zip"/> (which must be seekable), validates every entry's path before it writes
    /// anything, hashes every entry's content and returns the package id they make; with <paramref name="extractTo"/>,
    /// also writes each file under that directory (created here) as it is hashed, so that what is verified is exactly
    /// what was written.
    /// </summary>
    /// <exception cref="InvalidPackageException">
    /// The stream is not a zip, or an entry's path could escape the package directory, is a directory entry, repeats
    /// another, or is both a file and a directory.
    /// </exception>
    public static string Read(Stream zip, string? extractTo, CancellationToken cancellationToken)
    {
        try
        {
            using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
            ValidateEntries(archive);
            string? root = null;
            if (extractTo is not null)
            {
                root = Path.GetFullPath(extractTo);
                Directory.CreateDirectory(root);
            }

            var entries = new List<ManifestEntry>(archive.Entries.Count);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                foreach (var entry in archive.Entries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var input = entry.Open();
                    (long Length, string Sha256) content;
                    if (root is null)
                    {
                        content = Copy(input, Stream.Null, buffer, cancellationToken);
                    }
                    else
                    {
                        var target = TargetPath(root, entry.FullName);
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
                        {
                            content = Copy(input, output, buffer, cancellationToken);
                        }

                        SetPermissions(target, entry);
                    }

                    entries.Add(new ManifestEntry(entry.FullName, content.Length, content.Sha256));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return PackageManifest.ComputeId(entries);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidPackageException($"The package is not a valid zip archive: {e.Message}", e);
        }
    }

    /// <summary>Reads the file at <paramref name="path"/> to its end: its length and its SHA-256, lowercase hex.</summary>
    public static (long Length, string Sha256) HashFile(string path, CancellationToken cancellationToken)
    {
        using var input = OpenSource(path);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            return Copy(input, Stream.Null, buffer, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Copies input to its end into output, hashing what passes.
    private static (long Length, string Sha256) Copy(Stream input, Stream output, byte[] buffer, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        int read;
        while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, read);
            output.Write(buffer, 0, read);
            length += read;
        }

        return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    // A file of the application directory is read once, start to end, while others may still write it (the check
    // against its hash tells).
    private static FileStream OpenSource(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.SequentialScan);

    // Everything is checked before the first byte is written, so a refused package leaves no file behind.
    private static void ValidateEntries(ZipArchive archive)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in archive.Entries)
        {
            var name = entry.FullName;
            if (name.EndsWith('/'))
            {
                throw Refused(name, "is a directory entry (a package holds files only)");
            }

            if (PackageManifest.CheckPath(name) is { } problem)
            {
                throw Refused(name, problem);
            }

            if (!files.Add(name))
            {
                throw Refused(name, "appears twice");
            }

            for (var slash = name.IndexOf('/'); slash >= 0; slash = name.IndexOf('/', slash + 1))
            {
                directories.Add(name[..slash]);
            }
        }

        if (files.FirstOrDefault(directories.Contains) is { } both)
        {
            throw Refused(both, "is both a file and a directory");
        }
    }

    // CheckPath already keeps every entry inside the package; this second look asks the file system's own path
    // rules, which differ between platforms (drive letters, for one), the same question.
    private static string TargetPath(string root, string entryName)
    {
        var target = Path.GetFullPath(Path.Combine(root, entryName));
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!target.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, comparison))
        {
            throw Refused(entryName, "would be extracted outside the package directory");
        }

        return target;
    }

    private static void SetPermissions(string path, ZipArchiveEntry entry)
    {
        var mode = (UnixFileMode)(entry.ExternalAttributes >> 16) & PermissionBits;
        if (!OperatingSystem.IsWindows() && mode != UnixFileMode.None)
        {
            // The node's own user must still read, replace and delete what is in its cache.
            File.SetUnixFileMode(path, mode | UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static InvalidPackageException Refused(string entryName, string problem) =>
        new($"The package holds an entry '{entryName}' that {problem}; the package is refused.");
}
