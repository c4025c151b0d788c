using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Core;
using Ray.Logging;

namespace Ray.Packages;

/// <summary>
/// The GCS's package store: packages by id, each a zip file <c>{id}.zip</c> in a directory the store owns, with an
/// index in memory. Packages can be hundreds of megabytes, so they live on disk, not in the GCS's memory; the index
/// answers <see cref="Exists"/> without touching the disk.
/// </summary>
/// <remarks>
/// Nothing is ever stored under a wrong id: a <see cref="PackageWriter"/> writes a temporary file and moves it to its
/// name only once its content hashes to the id, and a writer disposed before <see cref="PackageWriter.Commit"/>
/// deletes its file. Files committed by an earlier store on the same directory are indexed again when a store starts
/// (they were verified before they got their names), and the temporary files of an upload a crash interrupted are
/// deleted then. The store never deletes a committed package: a job's package is small next to what a node's object
/// store holds, and eviction waits until jobs are tracked.
/// </remarks>
internal sealed class PackageStore
{
    /// <summary>The default size limit of one package's zip: 512 MiB, far above a typical .NET application.</summary>
    public const long DefaultMaxPackageBytes = 512L << 20;

    private const string PackageExtension = ".zip";
    private const string PartialExtension = ".partial";

    private readonly ConcurrentDictionary<string, long> _sizes = new(StringComparer.Ordinal);

    /// <summary>Opens the store in <paramref name="directory"/>, creating it when needed.</summary>
    /// <param name="directory">A directory the store owns (the GCS's session directory, for one).</param>
    /// <param name="maxPackageBytes">The largest zip the store accepts.</param>
    /// <param name="logger">Where stored packages and refused requests are logged.</param>
    public PackageStore(string directory, long maxPackageBytes = DefaultMaxPackageBytes, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPackageBytes);
        Directory = Path.GetFullPath(directory);
        MaxPackageBytes = maxPackageBytes;
        Logger = logger ?? NullLogger.Instance;
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            if (file.Name.EndsWith(PartialExtension, StringComparison.Ordinal))
            {
                file.Delete();
                Logger.PackageLeftoverDeleted(file.FullName);
            }
            else if (file.Name.EndsWith(PackageExtension, StringComparison.Ordinal)
                && Path.GetFileNameWithoutExtension(file.Name) is var id && PackageManifest.IsValidId(id))
            {
                _sizes[id] = file.Length;
            }
        }
    }

    /// <summary>The directory the packages are stored in.</summary>
    public string Directory { get; }

    /// <summary>The largest zip the store accepts, in bytes.</summary>
    public long MaxPackageBytes { get; }

    /// <summary>The store's logger, which the gRPC service logs refusals to as well.</summary>
    internal ILogger Logger { get; }

    /// <summary>Whether the store holds the package <paramref name="id"/>.</summary>
    /// <exception cref="InvalidPackageException"><paramref name="id"/> is not a package id.</exception>
    public bool Exists(string id)
    {
        PackageManifest.ThrowIfInvalidId(id);
        return _sizes.ContainsKey(id);
    }

    /// <summary>
    /// Starts storing the package <paramref name="id"/>: write its zip to the writer, then <see cref="PackageWriter.Commit"/>.
    /// </summary>
    /// <param name="id">The package id the zip's content must hash to.</param>
    /// <param name="expectedLength">The zip's size when the sender announced it: refused at once over the limit, and checked at commit.</param>
    /// <exception cref="InvalidPackageException"><paramref name="id"/> is not a package id, or <paramref name="expectedLength"/> is negative.</exception>
    /// <exception cref="PackageTooLargeException"><paramref name="expectedLength"/> is over <see cref="MaxPackageBytes"/>.</exception>
    public PackageWriter OpenWrite(string id, long? expectedLength = null)
    {
        PackageManifest.ThrowIfInvalidId(id);
        if (expectedLength < 0)
        {
            throw new InvalidPackageException($"The upload of package {id} announced a negative size ({expectedLength} bytes).");
        }

        if (expectedLength > MaxPackageBytes)
        {
            throw TooLarge(id, expectedLength.Value);
        }

        var partialPath = Path.Combine(Directory, $"{id}.{Guid.NewGuid():N}{PartialExtension}");
        return new PackageWriter(this, id, expectedLength, partialPath);
    }

    /// <summary>Opens the zip of the package <paramref name="id"/> for reading.</summary>
    /// <exception cref="InvalidPackageException"><paramref name="id"/> is not a package id.</exception>
    /// <exception cref="PackageNotFoundException">The store does not hold the package.</exception>
    public FileStream OpenRead(string id)
    {
        PackageManifest.ThrowIfInvalidId(id);
        if (!_sizes.ContainsKey(id))
        {
            throw new PackageNotFoundException(
                $"The package store does not hold package {id}; the driver that runs the job uploads it when it starts.");
        }

        // FileShare.Delete: a commit of the same package by another upload may replace the file while it is read
        // (the reader keeps the old file, with the same content).
        return new FileStream(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
    }

    internal PackageTooLargeException TooLarge(string id, long size) =>
        new($"Package {id} is {ByteSize.Format(size)} ({size} bytes), over the package store's limit of {ByteSize.Format(MaxPackageBytes)}; " +
            "make the application directory smaller or raise the store's limit.");

    internal void Add(string id, string partialPath, long length)
    {
        // Overwriting is right: a concurrent upload of the same id committed the same content.
        File.Move(partialPath, PathOf(id), overwrite: true);
        _sizes[id] = length;
        Logger.PackageStored(id, ByteSize.Format(length));
    }

    private string PathOf(string id) => Path.Combine(Directory, id + PackageExtension);
}

/// <summary>
/// One package on its way into a <see cref="PackageStore"/>: bytes go to a temporary file, and only
/// <see cref="Commit"/>, after the content hashes to the id, gives it its name. Disposing without a commit (a
/// failed or cancelled upload) deletes the file, so a partial upload leaves nothing.
/// </summary>
internal sealed class PackageWriter : IDisposable, IAsyncDisposable
{
    private readonly PackageStore _store;
    private readonly long? _expectedLength;
    private readonly string _partialPath;
    private readonly FileStream _file;
    private bool _closed; // committed or discarded

    internal PackageWriter(PackageStore store, string id, long? expectedLength, string partialPath)
    {
        _store = store;
        Id = id;
        _expectedLength = expectedLength;
        _partialPath = partialPath;
        _file = new FileStream(partialPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16, FileOptions.Asynchronous);
    }

    /// <summary>The id the package is being stored under.</summary>
    public string Id { get; }

    /// <summary>How many bytes have been written.</summary>
    public long Length { get; private set; }

    /// <summary>Appends <paramref name="data"/> to the package's zip.</summary>
    /// <exception cref="PackageTooLargeException">The zip grows over the store's limit.</exception>
    /// <exception cref="InvalidPackageException">The zip grows over the size its sender announced.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        var length = Length + data.Length;
        if (length > _store.MaxPackageBytes)
        {
            throw _store.TooLarge(Id, length);
        }

        if (length > _expectedLength)
        {
            throw new InvalidPackageException($"The upload of package {Id} carried more than the {_expectedLength} bytes it announced; nothing was stored.");
        }

        await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        Length = length;
    }

    /// <summary>
    /// Verifies the zip (a valid archive whose content hashes to <see cref="Id"/>, every entry inside the package) and
    /// stores it. This reads and decompresses the whole zip, so it takes a moment for a large package; call it off
    /// any thread that must stay responsive.
    /// </summary>
    /// <exception cref="InvalidPackageException">The upload ended before the size it announced, or the zip is not the package <see cref="Id"/>; nothing is stored.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (_expectedLength is { } expected && Length != expected)
        {
            throw new InvalidPackageException($"The upload of package {Id} ended after {Length} of the {expected} bytes it announced; nothing was stored.");
        }

        _file.Flush();
        _file.Position = 0;
        var actual = PackageArchive.Read(_file, extractTo: null, CancellationToken.None);
        if (actual != Id)
        {
            throw new InvalidPackageException(
                $"The uploaded package's content hashes to {actual}, not to the id {Id} it was uploaded under; nothing was stored.");
        }

        _file.Dispose();
        _store.Add(Id, _partialPath, Length);
        _closed = true;
    }

    /// <summary>Deletes the temporary file unless the package was committed.</summary>
    public void Dispose()
    {
        if (!_closed)
        {
            _file.Dispose();
            File.Delete(_partialPath);
            _closed = true;
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
