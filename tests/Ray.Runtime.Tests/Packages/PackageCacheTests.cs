using System.Diagnostics;
using Ray.Packages;
using Xunit;

namespace Ray.Runtime.Tests.Packages;

/// <summary>
/// A node's package cache downloads a package once however many callers ask at once, never shows a package that is
/// incomplete or not what its id says, refuses entries that would escape its directory, and keeps what it extracted
/// across a restart.
/// </summary>
public sealed class PackageCacheTests : IDisposable
{
    private readonly SampleApp _app = new();
    private readonly TempDirectory _cacheDirectory = new();

    private string Root => _cacheDirectory["cache"];

    public void Dispose()
    {
        _app.Dispose();
        _cacheDirectory.Dispose();
    }

    [Fact]
    public async Task Concurrent_callers_share_one_download_and_get_the_extracted_package()
    {
        var cache = new PackageCache(Root);
        var downloads = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Download(Stream destination, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref downloads);
            await gate.Task.WaitAsync(cancellationToken);
            await destination.WriteAsync(_app.Zip, cancellationToken);
        }

        var callers = Enumerable.Range(0, 16).Select(_ => Task.Run(() => cache.EnsureAsync(_app.Id, Download))).ToArray();
        await WaitUntilAsync(() => Volatile.Read(ref downloads) > 0);
        await Task.Delay(50); // let every caller reach the cache while the download is held
        gate.SetResult();
        var directories = await Task.WhenAll(callers).WaitAsync(PackageFixtures.Timeout);

        Assert.Equal(1, downloads);
        var expected = Path.Combine(Root, _app.Id);
        Assert.All(directories, d => Assert.Equal(expected, d));
        Assert.Equal(_app.Snapshot(), TempDirectory.Snapshot(expected));
        Assert.Equal([_app.Id], Directory.EnumerateFileSystemEntries(Root).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("../escaped.txt")]
    [InlineData("content/../../escaped.txt")]
    [InlineData("/tmp/escaped.txt")]
    [InlineData("content\\..\\..\\escaped.txt")]
    public async Task An_entry_that_would_land_outside_the_package_is_refused_and_nothing_is_written(string entry)
    {
        // The hash matches the entries: only the path check stands between them and the disk.
        var entries = new[] { ("ok.txt", "fine"u8.ToArray()), (entry, "escaped"u8.ToArray()) };
        var id = PackageFixtures.IdOf(entries);
        var cache = new PackageCache(Root);

        var error = await Assert.ThrowsAsync<InvalidPackageException>(
            () => cache.EnsureAsync(id, PackageFixtures.Serve(PackageFixtures.CraftedZip(entries)))).WaitAsync(PackageFixtures.Timeout);

        Assert.Contains($"'{entry}'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
        Assert.Empty(Directory.EnumerateFiles(_cacheDirectory.Path, "escaped.txt", SearchOption.AllDirectories));
        Assert.False(File.Exists("/tmp/escaped.txt"));
    }

    [Fact]
    public async Task A_package_extracted_before_a_restart_is_reused_without_a_download()
    {
        var directory = await new PackageCache(Root).EnsureAsync(_app.Id, PackageFixtures.Serve(_app.Zip)).WaitAsync(PackageFixtures.Timeout);

        var restarted = new PackageCache(Root);
        var again = await restarted.EnsureAsync(_app.Id, (_, _) => throw new InvalidOperationException("downloaded again")).WaitAsync(PackageFixtures.Timeout);

        Assert.Equal(directory, again);
        Assert.Equal(_app.Snapshot(), TempDirectory.Snapshot(again));
    }

    [Fact]
    public async Task A_download_that_is_not_the_package_asked_for_is_not_cached_and_the_next_call_tries_again()
    {
        using var other = new SampleApp(seed: 2);
        var cache = new PackageCache(Root);

        var error = await Assert.ThrowsAsync<InvalidPackageException>(() => cache.EnsureAsync(_app.Id, PackageFixtures.Serve(other.Zip))).WaitAsync(PackageFixtures.Timeout);
        Assert.Contains($"downloaded as {_app.Id}", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));

        await Assert.ThrowsAsync<IOException>(() => cache.EnsureAsync(_app.Id, (_, _) => throw new IOException("the store went away"))).WaitAsync(PackageFixtures.Timeout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));

        var directory = await cache.EnsureAsync(_app.Id, PackageFixtures.Serve(_app.Zip)).WaitAsync(PackageFixtures.Timeout);
        Assert.Equal(_app.Snapshot(), TempDirectory.Snapshot(directory));
    }

    [Fact]
    public async Task A_caller_that_cancels_leaves_the_download_to_the_others_and_the_last_one_stops_it()
    {
        var cache = new PackageCache(Root);
        var downloadCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        async Task Download(Stream destination, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref started);
            try
            {
                await gate.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                downloadCancelled.TrySetResult();
                throw;
            }

            await destination.WriteAsync(_app.Zip, cancellationToken);
        }

        using var leaving = new CancellationTokenSource();
        var first = cache.EnsureAsync(_app.Id, Download, leaving.Token);
        var second = cache.EnsureAsync(_app.Id, Download);
        await WaitUntilAsync(() => Volatile.Read(ref started) == 1);
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first).WaitAsync(PackageFixtures.Timeout);
        Assert.False(downloadCancelled.Task.IsCompleted, "One caller's cancellation stopped the download another caller waits for.");
        gate.SetResult();
        Assert.Equal(Path.Combine(Root, _app.Id), await second.WaitAsync(PackageFixtures.Timeout));

        // When every caller leaves, the download stops.
        using var otherRoot = new TempDirectory();
        var lonely = new PackageCache(otherRoot.Path);
        gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var last = new CancellationTokenSource();
        var only = lonely.EnsureAsync(_app.Id, Download, last.Token);
        await WaitUntilAsync(() => Volatile.Read(ref started) == 2);
        last.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => only).WaitAsync(PackageFixtures.Timeout);
        await downloadCancelled.Task.WaitAsync(PackageFixtures.Timeout);
        await WaitUntilAsync(() => !Directory.EnumerateFileSystemEntries(otherRoot.Path).Any());
    }

    [Fact]
    public async Task Leftovers_of_a_process_that_is_gone_are_deleted_and_those_of_a_running_one_kept()
    {
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await exited.WaitForExitAsync().WaitAsync(PackageFixtures.Timeout);
        Directory.CreateDirectory(Root);
        var dead = Directory.CreateDirectory(Path.Combine(Root, $".partial-{exited.Id}-0123")).FullName;
        File.WriteAllBytes(Path.Combine(dead, "half.dll"), [1]);
        File.WriteAllBytes(dead + ".zip", [1]);
        var alive = Directory.CreateDirectory(Path.Combine(Root, $".partial-{Environment.ProcessId}-0123")).FullName;

        _ = new PackageCache(Root);

        Assert.False(Directory.Exists(dead));
        Assert.False(File.Exists(dead + ".zip"));
        Assert.True(Directory.Exists(alive));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < PackageFixtures.Timeout, "The condition did not hold in time.");
            await Task.Delay(5);
        }
    }
}
