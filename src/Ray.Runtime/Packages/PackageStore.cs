namespace Ray.Packages;

/// <summary>
/// The GCS's packages, one zip file each under its directory, named by content hash. A zip is kept only after its
/// content was checked against the name it was uploaded under, and only whole (written to a temporary file, then
/// moved), so a broken or forged upload leaves nothing behind.
/// </summary>
internal sealed class PackageStore
{
    public PackageStore(string directory, long maxPackageBytes)
    {
        Directory = directory;
        MaxPackageBytes = maxPackageBytes;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

    /// <summary>The largest package the store takes.</summary>
    public long MaxPackageBytes { get; }

    public bool Exists(string id) => PackageHash.IsValid(id) && File.Exists(PathOf(id));

    /// <summary>Opens a package's zip; null when the store does not have it.</summary>
    public FileStream? OpenRead(string id) => Exists(id) ? File.OpenRead(PathOf(id)) : null;

    /// <summary>A temporary file to receive an upload into, in the store's directory (so the final move is a rename).</summary>
    public string NewUploadPath() => Path.Combine(Directory, $"upload-{Guid.NewGuid():n}.tmp");

    /// <summary>Keeps the zip at <paramref name="uploadPath"/> as package <paramref name="id"/> if its content matches the id; deletes it otherwise.</summary>
    /// <exception cref="InvalidDataException">The content does not match the id, or it is not a zip.</exception>
    public async Task CommitAsync(string id, string uploadPath, CancellationToken cancellationToken)
    {
        try
        {
            if (!PackageHash.IsValid(id))
            {
                throw new InvalidDataException($"'{id}' is not a package id (64 hex digits).");
            }

            var actual = await PackageHash.OfZipAsync(uploadPath, cancellationToken).ConfigureAwait(false);
            if (actual != id)
            {
                throw new InvalidDataException($"The uploaded package's content hashes to {actual}, not to the id it was sent under ({id}).");
            }

            File.Move(uploadPath, PathOf(id), overwrite: true);
        }
        finally
        {
            if (File.Exists(uploadPath))
            {
                File.Delete(uploadPath);
            }
        }
    }

    private string PathOf(string id) => Path.Combine(Directory, id + ".zip");
}
