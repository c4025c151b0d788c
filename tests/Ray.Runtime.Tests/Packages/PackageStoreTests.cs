using Ray.Packages;
using Xunit;

namespace Ray.Runtime.Tests.Packages;

/// <summary>
/// The GCS's package store keeps a package only under the id its content hashes to, and an upload that fails or
/// stops half-way leaves nothing behind.
/// </summary>
public sealed class PackageStoreTests : IDisposable
{
    private readonly SampleApp _app = new();
    private readonly TempDirectory _storeDirectory = new();

    public void Dispose()
    {
        _app.Dispose();
        _storeDirectory.Dispose();
    }

    [Fact]
    public async Task Stores_a_package_under_its_id_and_reads_it_back()
    {
        var (package, zip) = (_app.Package, _app.Zip);
        var store = new PackageStore(_storeDirectory.Path);
        Assert.False(store.Exists(package.Id));

        await using (var writer = store.OpenWrite(package.Id, zip.Length))
        {
            await writer.WriteAsync(zip.AsMemory(0, 1000)).AsTask().WaitAsync(PackageFixtures.Timeout);
            await writer.WriteAsync(zip.AsMemory(1000)).AsTask().WaitAsync(PackageFixtures.Timeout);
            writer.Commit();
        }

        Assert.True(store.Exists(package.Id));
        await using var read = store.OpenRead(package.Id);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy).WaitAsync(PackageFixtures.Timeout);
        Assert.Equal(zip, copy.ToArray());
        Assert.Equal([package.Id + ".zip"], StoredFiles());
    }

    [Fact]
    public async Task Refuses_a_zip_under_an_id_its_content_does_not_hash_to_and_keeps_nothing()
    {
        var (package, zip) = (_app.Package, _app.Zip);
        var wrongId = new string('a', 64);
        var store = new PackageStore(_storeDirectory.Path);

        await using (var writer = store.OpenWrite(wrongId, zip.Length))
        {
            await writer.WriteAsync(zip).AsTask().WaitAsync(PackageFixtures.Timeout);
            var error = Assert.Throws<InvalidPackageException>(writer.Commit);
            Assert.Contains($"hashes to {package.Id}, not to the id {wrongId}", error.Message, StringComparison.Ordinal);
        }

        Assert.False(store.Exists(wrongId));
        Assert.False(store.Exists(package.Id));
        Assert.Empty(StoredFiles());
    }

    [Fact]
    public async Task A_partial_upload_leaves_nothing_whether_abandoned_or_committed_short()
    {
        var (package, zip) = (_app.Package, _app.Zip);
        var store = new PackageStore(_storeDirectory.Path);

        // Abandoned: the sender went away; the writer is disposed without a commit.
        await using (var writer = store.OpenWrite(package.Id, zip.Length))
        {
            await writer.WriteAsync(zip.AsMemory(0, zip.Length / 2)).AsTask().WaitAsync(PackageFixtures.Timeout);
            Assert.Single(StoredFiles());
        }

        Assert.Empty(StoredFiles());

        // Committed before the announced size arrived.
        await using (var writer = store.OpenWrite(package.Id, zip.Length))
        {
            await writer.WriteAsync(zip.AsMemory(0, zip.Length / 2)).AsTask().WaitAsync(PackageFixtures.Timeout);
            var error = Assert.Throws<InvalidPackageException>(writer.Commit);
            Assert.Contains($"ended after {zip.Length / 2} of the {zip.Length} bytes", error.Message, StringComparison.Ordinal);
        }

        // More than announced.
        await using (var writer = store.OpenWrite(package.Id, 10))
        {
            await Assert.ThrowsAsync<InvalidPackageException>(() => writer.WriteAsync(zip.AsMemory(0, 11)).AsTask()).WaitAsync(PackageFixtures.Timeout);
        }

        Assert.False(store.Exists(package.Id));
        Assert.Empty(StoredFiles());
    }

    [Fact]
    public async Task Refuses_a_package_over_its_limit_when_announced_and_when_it_grows_past_it()
    {
        var (package, zip) = (_app.Package, _app.Zip);
        var store = new PackageStore(_storeDirectory.Path, maxPackageBytes: 1 << 20);

        var announced = Assert.Throws<PackageTooLargeException>(() => store.OpenWrite(package.Id, zip.Length));
        Assert.Contains("over the package store's limit of 1 MiB", announced.Message, StringComparison.Ordinal);

        await using (var writer = store.OpenWrite(package.Id))
        {
            await Assert.ThrowsAsync<PackageTooLargeException>(() => writer.WriteAsync(zip).AsTask()).WaitAsync(PackageFixtures.Timeout);
        }

        Assert.Empty(StoredFiles());
    }

    [Fact]
    public async Task Refuses_malformed_ids_and_archives_and_says_which_package_is_unknown()
    {
        var store = new PackageStore(_storeDirectory.Path);
        foreach (var id in new[] { "../../etc/passwd", "", new string('A', 64), new string('a', 63) })
        {
            Assert.Throws<InvalidPackageException>(() => store.Exists(id));
            Assert.Throws<InvalidPackageException>(() => store.OpenWrite(id));
            Assert.Throws<InvalidPackageException>(() => store.OpenRead(id));
        }

        var unknown = new string('b', 64);
        var notFound = Assert.Throws<PackageNotFoundException>(() => store.OpenRead(unknown));
        Assert.Contains(unknown, notFound.Message, StringComparison.Ordinal);

        await using (var writer = store.OpenWrite(unknown))
        {
            await writer.WriteAsync("not a zip"u8.ToArray()).AsTask().WaitAsync(PackageFixtures.Timeout);
            Assert.Contains("not a valid zip archive", Assert.Throws<InvalidPackageException>(writer.Commit).Message, StringComparison.Ordinal);
        }

        // An archive whose hash matches but whose entry would escape the package directory.
        var entries = new[] { ("../escape.txt", "x"u8.ToArray()) };
        var slipId = PackageFixtures.IdOf(entries);
        await using (var writer = store.OpenWrite(slipId))
        {
            await writer.WriteAsync(PackageFixtures.CraftedZip(entries)).AsTask().WaitAsync(PackageFixtures.Timeout);
            Assert.Contains("'../escape.txt'", Assert.Throws<InvalidPackageException>(writer.Commit).Message, StringComparison.Ordinal);
        }

        Assert.Empty(StoredFiles());
    }

    [Fact]
    public async Task A_store_started_again_on_its_directory_finds_its_packages_and_drops_interrupted_uploads()
    {
        var (package, zip) = (_app.Package, _app.Zip);
        var first = new PackageStore(_storeDirectory.Path);
        await using (var writer = first.OpenWrite(package.Id))
        {
            await writer.WriteAsync(zip).AsTask().WaitAsync(PackageFixtures.Timeout);
            writer.Commit();
        }

        // What a crash in the middle of an upload leaves.
        File.WriteAllBytes(Path.Combine(_storeDirectory.Path, new string('c', 64) + ".0123.partial"), [1, 2, 3]);

        var second = new PackageStore(_storeDirectory.Path);
        Assert.True(second.Exists(package.Id));
        Assert.Equal([package.Id + ".zip"], StoredFiles());
    }

    private string[] StoredFiles() => Directory.GetFiles(_storeDirectory.Path).Select(Path.GetFileName).ToArray()!;
}
