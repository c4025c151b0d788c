using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Ray.Packages;
using Xunit;

namespace Ray.Runtime.Tests.Packages;

/// <summary>
/// An application directory's package id depends on its files' paths and contents alone, and its zip carries exactly
/// those files back out.
/// </summary>
[UnsupportedOSPlatform("windows")] // links, modes, FIFOs and sockets as Unix has them
public sealed partial class AppPackageTests : IDisposable
{
    private readonly TempDirectory _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public void The_same_files_give_the_same_id_wherever_and_in_whatever_order_they_were_written()
    {
        PackageFixtures.WriteApp(_app);
        var first = AppPackage.Create(_app.Path);
        Assert.Equal(first.Id, AppPackage.Create(_app.Path).Id);
        Assert.Matches("^[0-9a-f]{64}$", first.Id);

        // The same files written in the opposite order, into another directory.
        using var copy = new TempDirectory();
        foreach (var file in first.Files.Reverse())
        {
            copy.Write(file.Path, File.ReadAllBytes(_app[file.Path]));
        }

        Assert.Equal(first.Id, AppPackage.Create(copy.Path).Id);
        Assert.Equal(
            ["App.deps.json", "App.dll", "content/data.bin", "content/empty.txt", "runtimes/linux-x64/native/libapp.so"],
            first.Files.Select(f => f.Path));
        Assert.Equal(new FileInfo(_app["content/data.bin"]).Length, first.Files.Single(f => f.Path == "content/data.bin").Length);
    }

    [Fact]
    public void One_changed_byte_or_a_renamed_file_changes_the_id()
    {
        PackageFixtures.WriteApp(_app);
        var original = AppPackage.Create(_app.Path).Id;

        var path = _app["App.dll"];
        var bytes = File.ReadAllBytes(path);
        bytes[12_345] ^= 1;
        File.WriteAllBytes(path, bytes);
        var changed = AppPackage.Create(_app.Path).Id;
        Assert.NotEqual(original, changed);

        File.Move(_app["content/empty.txt"], _app["content/empty2.txt"]);
        Assert.NotEqual(changed, AppPackage.Create(_app.Path).Id);
    }

    [Fact]
    public void The_zip_round_trips_with_the_same_bytes_every_time_and_keeps_the_execute_bit()
    {
        PackageFixtures.WriteApp(_app);
        File.SetUnixFileMode(_app["runtimes/linux-x64/native/libapp.so"], (UnixFileMode)0x1ED); // rwxr-xr-x
        var package = AppPackage.Create(_app.Path);
        var zip = PackageFixtures.Zip(package);
        Assert.Equal(zip, PackageFixtures.Zip(package));

        using var extracted = new TempDirectory();
        var target = extracted["out"];
        Assert.Equal(package.Id, PackageArchive.Read(new MemoryStream(zip), target, CancellationToken.None));
        Assert.Equal(TempDirectory.Snapshot(_app.Path), TempDirectory.Snapshot(target));
        Assert.True(File.GetUnixFileMode(Path.Combine(target, "runtimes/linux-x64/native/libapp.so")).HasFlag(UnixFileMode.UserExecute));
        Assert.False(File.GetUnixFileMode(Path.Combine(target, "App.dll")).HasFlag(UnixFileMode.UserExecute));

        // Verification alone (the store's) gives the same id and writes nothing.
        Assert.Equal(package.Id, PackageArchive.Read(new MemoryStream(zip), extractTo: null, CancellationToken.None));
    }

    [Fact]
    public void Log_files_links_out_of_the_directory_and_directory_links_are_left_out_and_a_link_inside_is_copied()
    {
        PackageFixtures.WriteApp(_app);
        using var outside = new TempDirectory();
        outside.Write("secret.txt", "not the app's"u8.ToArray());
        _app.Write("logs/app.log", "written at run time"u8.ToArray());
        File.CreateSymbolicLink(_app["secret-link.txt"], outside["secret.txt"]);
        File.CreateSymbolicLink(_app["App-link.dll"], "App.dll");
        File.CreateSymbolicLink(_app["dangling.txt"], _app["nothing-here"]);
        Directory.CreateSymbolicLink(_app["outside-dir"], outside.Path);
        Directory.CreateSymbolicLink(_app["content-again"], _app["content"]);

        var package = AppPackage.Create(_app.Path);

        Assert.Equal(
            [
                new SkippedPath("content-again", SkipReason.DirectoryLink),
                new SkippedPath("dangling.txt", SkipReason.DanglingLink),
                new SkippedPath("logs/app.log", SkipReason.LogFile),
                new SkippedPath("outside-dir", SkipReason.DirectoryLink),
                new SkippedPath("secret-link.txt", SkipReason.LinkOutsideDirectory),
            ],
            package.Skipped);
        var link = package.Files.Single(f => f.Path == "App-link.dll");
        var target = package.Files.Single(f => f.Path == "App.dll");
        Assert.Equal((target.Length, target.Sha256), (link.Length, link.Sha256));
        Assert.DoesNotContain(package.Files, f => f.Path.Contains("secret", StringComparison.Ordinal) || f.Path.StartsWith("logs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fifo_or_a_socket_in_the_directory_neither_blocks_nor_fails_packaging()
    {
        PackageFixtures.WriteApp(_app);
        Assert.Equal(0, MakeFifo(_app["pipe"], 0x1A4));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(_app["app.sock"]));

        var package = await Task.Run(() => AppPackage.Create(_app.Path)).WaitAsync(PackageFixtures.Timeout);
        using var zip = new MemoryStream();
        await Task.Run(() => package.WriteZip(zip)).WaitAsync(PackageFixtures.Timeout);

        // Both look like empty files to .NET and are carried as such.
        Assert.All(package.Files.Where(f => f.Path is "pipe" or "app.sock"), f => Assert.Equal(0, f.Length));
        Assert.Equal(2, package.Files.Count(f => f.Path is "pipe" or "app.sock"));
    }

    [Fact]
    public void A_file_that_changes_after_it_was_hashed_fails_the_zip_with_a_clear_error()
    {
        PackageFixtures.WriteApp(_app);
        var package = AppPackage.Create(_app.Path);
        File.WriteAllBytes(_app["App.dll"], new byte[40_000]);

        var error = Assert.Throws<RayException>(() => PackageFixtures.Zip(package));
        Assert.Contains("'App.dll'", error.Message, StringComparison.Ordinal);
        Assert.Contains("changed while its package was being written", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_directory_is_a_clear_error()
    {
        var error = Assert.Throws<RayException>(() => AppPackage.Create(_app["missing"]));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeFifo(string path, uint mode);
}
