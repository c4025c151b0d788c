using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Logging;

namespace Ray.Packages;

/// <summary>A file of an application directory that goes into its package.</summary>
/// <param name="Path">The path relative to the directory, segments separated by <c>/</c>.</param>
/// <param name="Length">The size in bytes, as hashed.</param>
/// <param name="Sha256">The SHA-256 of the content, lowercase hex.</param>
/// <param name="Mode">
/// The Unix permissions, carried into the zip so that an executable stays executable on a node; not part of the id
/// (which the manifest defines from path, length and content alone).
/// </param>
internal sealed record PackageFile(string Path, long Length, string Sha256, UnixFileMode Mode);

/// <summary>Why an entry of an application directory is not in its package.</summary>
internal enum SkipReason
{
    /// <summary>A <c>*.log</c> file: written while the application runs, not part of what was built.</summary>
    LogFile,

    /// <summary>A symbolic link whose target lies outside the directory.</summary>
    LinkOutsideDirectory,

    /// <summary>A symbolic link to a directory: never followed, since it could form a cycle or repeat the tree.</summary>
    DirectoryLink,

    /// <summary>A symbolic link whose target does not exist.</summary>
    DanglingLink,

    /// <summary>A name no package path may have (a backslash or a control character).</summary>
    UnsupportedName,
}

/// <summary>An entry of an application directory left out of its package, and why.</summary>
/// <param name="Path">The path relative to the directory, segments separated by <c>/</c>.</param>
/// <param name="Reason">Why it is left out.</param>
internal sealed record SkippedPath(string Path, SkipReason Reason);

/// <summary>
/// An application directory (the driver's entry assembly with everything beside it) described as a package: its
/// files in a fixed order with their content hashes, the package id those make (see <see cref="PackageManifest"/>),
/// and the zip that carries them to nodes that lack them.
/// </summary>
/// <remarks>
/// <para>
/// Included: every regular file below the directory, in subdirectories too, hidden ones as well. That covers the
/// assemblies and their <c>*.deps.json</c>/<c>*.runtimeconfig.json</c> (the worker resolves dependencies through
/// them), native libraries under <c>runtimes/</c>, satellite assemblies, content files, RayGen's own runtime and
/// worker files (the job's directory is whatever the build put there), and <c>*.pdb</c> files: they are small next
/// to the assemblies and they give the stack traces of remote exceptions their file names and line numbers. Nothing
/// is left out by a directory name such as <c>obj/</c>: an application directory is a build's output, which holds no
/// intermediate files, and a guess by name would drop content of an application that happens to use that name.
/// </para>
/// <para>
/// Left out, in <see cref="Skipped"/> and logged: <c>*.log</c> files (written at run time, also by workers, whose
/// working directory is the application directory; they would change the id on every start and could grow while
/// they are hashed); symbolic links whose target lies outside the directory (following them could ship any file of
/// the machine, a home directory for one), links to directories (cycles, the same tree twice), dangling links, and
/// names with a backslash or a control character. A link to a file inside the directory is packaged as a copy of
/// that file under the link's name, since a zip carries no links. Empty directories are not carried: a package holds
/// files only.
/// </para>
/// <para>
/// Empty files are packaged without being opened. Sockets, FIFOs and devices look like empty files to .NET, so this
/// is also what keeps packaging from blocking on a FIFO or failing on a socket: such an entry arrives on a node as an
/// empty file.
/// </para>
/// </remarks>
internal sealed class AppPackage
{
    private AppPackage(string directory, string id, IReadOnlyList<PackageFile> files, IReadOnlyList<SkippedPath> skipped)
    {
        Directory = directory;
        Id = id;
        Files = files;
        Skipped = skipped;
    }

    /// <summary>The application directory, as a full path.</summary>
    public string Directory { get; }

    /// <summary>The package id: the lowercase hex SHA-256 of the manifest of <see cref="Files"/>.</summary>
    public string Id { get; }

    /// <summary>The files of the package, sorted by ordinal comparison of their paths.</summary>
    public IReadOnlyList<PackageFile> Files { get; }

    /// <summary>What the directory holds that the package does not, sorted by path.</summary>
    public IReadOnlyList<SkippedPath> Skipped { get; }

    /// <summary>The size of all files together, before compression.</summary>
    public long ContentBytes => Files.Sum(f => f.Length);

    /// <summary>
    /// Walks <paramref name="directory"/> and hashes its files, several at a time. Left-out entries are logged to
    /// <paramref name="logger"/>: <c>*.log</c> files at Debug, anything else at Warning, since a node will lack it.
    /// </summary>
    /// <exception cref="RayException">The directory does not exist, or a file in it cannot be read.</exception>
    public static AppPackage Create(string directory, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (!System.IO.Directory.Exists(root))
        {
            throw new RayException($"The application directory '{root}' does not exist, so it cannot be packaged.");
        }

        var started = Stopwatch.GetTimestamp();
        var found = new List<(string Path, FileInfo Source)>();
        var skipped = new List<SkippedPath>();
        PackageFile[] files;
        try
        {
            Walk(root, new DirectoryInfo(root), prefix: "", found, skipped);
            files = new PackageFile[found.Count];
            Parallel.For(0, found.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                var (path, source) = found[i];
                files[i] = Hash(root, path, source, cancellationToken);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RayException($"The application directory '{root}' could not be packaged: {e.Message}", e);
        }
        catch (AggregateException e) when (e.InnerExceptions[0] is IOException or UnauthorizedAccessException)
        {
            // Several files may have failed at once; the first says what is wrong.
            var first = e.InnerExceptions[0];
            throw new RayException($"The application directory '{root}' could not be packaged: {first.Message}", first);
        }

        Array.Sort(files, (a, b) => string.CompareOrdinal(a.Path, b.Path));
        skipped.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var id = PackageManifest.ComputeId(files.Select(f => new ManifestEntry(f.Path, f.Length, f.Sha256)));
        var package = new AppPackage(root, id, files, skipped);
        if (logger is not null)
        {
            foreach (var skip in skipped)
            {
                if (skip.Reason == SkipReason.LogFile)
                {
                    logger.PackageFileSkipped(skip.Path, Describe(skip.Reason));
                }
                else
                {
                    logger.PackageFileLeftOut(skip.Path, Describe(skip.Reason));
                }
            }

            logger.PackageCreated(root, id, files.Length, ByteSize.Format(package.ContentBytes), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return package;
    }

    /// <summary>
    /// Writes the package as a zip to <paramref name="destination"/> (which need not be seekable), rereading each
    /// file and checking that it still has the content it was hashed with.
    /// </summary>
    /// <exception cref="RayException">A file changed since <see cref="Create"/> hashed it.</exception>
    public void WriteZip(Stream destination, CancellationToken cancellationToken = default) =>
        PackageArchive.Write(Directory, Files, destination, cancellationToken);

    // Says in words why an entry was left out.
    private static string Describe(SkipReason reason) => reason switch
    {
        SkipReason.LogFile => "a log file, written while the application runs",
        SkipReason.LinkOutsideDirectory => "a symbolic link to a file outside the application directory",
        SkipReason.DirectoryLink => "a symbolic link to a directory, which packaging does not follow",
        SkipReason.DanglingLink => "a symbolic link whose target does not exist",
        SkipReason.UnsupportedName => "its name has a backslash or a control character, which a package path cannot hold",
        _ => reason.ToString(),
    };

    private static void Walk(string root, DirectoryInfo directory, string prefix, List<(string, FileInfo)> found, List<SkippedPath> skipped)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            var path = prefix + entry.Name;
            if (entry is DirectoryInfo subdirectory)
            {
                if (entry.LinkTarget is not null)
                {
                    skipped.Add(new SkippedPath(path, SkipReason.DirectoryLink));
                }
                else
                {
                    Walk(root, subdirectory, path + "/", found, skipped);
                }

                continue;
            }

            if (PackageManifest.CheckPath(path) is not null)
            {
                skipped.Add(new SkippedPath(path, SkipReason.UnsupportedName));
            }
            else if (entry.Name.EndsWith(".log", StringComparison.OrdinalIgnoreCase))
            {
                skipped.Add(new SkippedPath(path, SkipReason.LogFile));
            }
            else if (entry.LinkTarget is null)
            {
                found.Add((path, (FileInfo)entry));
            }
            else if (entry.ResolveLinkTarget(returnFinalTarget: true) is not FileInfo { Exists: true } target)
            {
                skipped.Add(new SkippedPath(path, SkipReason.DanglingLink));
            }
            else if (!IsInside(root, target.FullName))
            {
                skipped.Add(new SkippedPath(path, SkipReason.LinkOutsideDirectory));
            }
            else
            {
                found.Add((path, target));
            }
        }
    }

    // A target is inside when its path is below the root and no directory on the way there is itself a link, which
    // could lead anywhere (the walk does not follow directory links, so a file link must not either).
    private static bool IsInside(string root, string target)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var full = Path.GetFullPath(target);
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, comparison))
        {
            return false;
        }

        for (var parent = Path.GetDirectoryName(full); parent is not null && parent.Length > root.Length; parent = Path.GetDirectoryName(parent))
        {
            if (new DirectoryInfo(parent).LinkTarget is not null)
            {
                return false;
            }
        }

        return true;
    }

    private static PackageFile Hash(string root, string path, FileInfo source, CancellationToken cancellationToken)
    {
        var mode = OperatingSystem.IsWindows() ? UnixFileMode.None : source.UnixFileMode;
        if (source.Length == 0)
        {
            return new PackageFile(path, 0, PackageManifest.EmptySha256, mode);
        }

        var (length, sha256) = PackageArchive.HashFile(Path.Combine(root, path), cancellationToken);
        return new PackageFile(path, length, sha256, mode);
    }
}
