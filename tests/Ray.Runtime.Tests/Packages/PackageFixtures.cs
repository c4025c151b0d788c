using System.IO.Compression;
using System.Security.Cryptography;
using Ray.Packages;

namespace Ray.Runtime.Tests.Packages;

/// <summary>A directory under the temporary directory, deleted with everything in it at the end of a test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("raygen-packages-").FullName;

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes <paramref name="content"/> at <paramref name="relative"/>, creating the directories on the way.</summary>
    public string Write(string relative, byte[] content)
    {
        var path = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Every file below the directory, relative paths with '/' mapped to their content, for comparing trees.</summary>
    public static SortedDictionary<string, string> Snapshot(string root) =>
        new(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(
            f => System.IO.Path.GetRelativePath(root, f).Replace('\\', '/'),
            f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow runner: the temporary directory is the system's to clean.
        }
    }
}

/// <summary>The application directory of <see cref="PackageFixtures.WriteApp"/>, packaged and zipped.</summary>
internal sealed class SampleApp : IDisposable
{
    public SampleApp(int seed = 1)
    {
        PackageFixtures.WriteApp(Directory, seed);
        Package = AppPackage.Create(Directory.Path);
        Zip = PackageFixtures.Zip(Package);
    }

    public TempDirectory Directory { get; } = new();

    public AppPackage Package { get; }

    public string Id => Package.Id;

    public byte[] Zip { get; }

    /// <summary>The application directory's files, to compare an extracted package with.</summary>
    public SortedDictionary<string, string> Snapshot() => TempDirectory.Snapshot(Directory.Path);

    public void Dispose() => Directory.Dispose();
}

/// <summary>Application directories, zips and crafted archives the package tests share.</summary>
internal static class PackageFixtures
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Writes a small application directory: an "assembly", its deps.json, a native library, an empty file and a
    /// 2.5 MiB file of random bytes, so that a zip of it takes several 1 MiB chunks.
    /// </summary>
    public static void WriteApp(TempDirectory directory, int seed = 1)
    {
        var random = new Random(seed);
        directory.Write("App.dll", Bytes(random, 40_000));
        directory.Write("App.deps.json", "{\"runtimeTarget\":{}}"u8.ToArray());
        directory.Write("runtimes/linux-x64/native/libapp.so", Bytes(random, 10_000));
        directory.Write("content/empty.txt", []);
        directory.Write("content/data.bin", Bytes(random, (5 << 20) / 2));
    }

    public static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    public static byte[] Zip(AppPackage package)
    {
        using var zip = new MemoryStream();
        package.WriteZip(zip);
        return zip.ToArray();
    }

    /// <summary>A zip with exactly these entries, whatever their names: what a hostile or broken sender could make.</summary>
    public static byte[] CraftedZip(params (string Name, byte[] Content)[] entries)
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(content);
            }
        }

        return zip.ToArray();
    }

    /// <summary>The id that entries with these names and contents hash to, valid names or not.</summary>
    public static string IdOf(params (string Name, byte[] Content)[] entries) =>
        PackageManifest.ComputeId(entries.Select(e => new ManifestEntry(e.Name, e.Content.Length, Convert.ToHexStringLower(SHA256.HashData(e.Content)))));

    /// <summary>A download delegate that serves <paramref name="zip"/>, for <see cref="PackageCache.EnsureAsync"/>.</summary>
    public static Func<Stream, CancellationToken, Task> Serve(byte[] zip) =>
        (destination, cancellationToken) => destination.WriteAsync(zip, cancellationToken).AsTask();
}
