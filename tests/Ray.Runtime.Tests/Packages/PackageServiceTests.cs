using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Hosting;
using Ray.Packages;
using Xunit;

namespace Ray.Runtime.Tests.Packages;

/// <summary>
/// The package service end to end, over HTTP/2 on 127.0.0.1: a driver uploads once, a node downloads into its cache,
/// and each refusal arrives as the exception the store threw, with its status.
/// </summary>
public sealed class PackageServiceTests : IDisposable
{
    private readonly SampleApp _app = new();
    private readonly TempDirectory _work = new();

    public void Dispose()
    {
        _app.Dispose();
        _work.Dispose();
    }

    [Fact]
    public async Task A_driver_uploads_once_and_a_node_downloads_the_package_into_its_cache()
    {
        await using var server = await PackageServer.StartAsync(_work["store"]);
        var driver = new PackageClient(server.Channel);

        Assert.False(await driver.HasPackageAsync(_app.Id).WaitAsync(PackageFixtures.Timeout));
        Assert.True(await driver.EnsureUploadedAsync(_app.Package).WaitAsync(PackageFixtures.Timeout));
        Assert.True(await driver.HasPackageAsync(_app.Id).WaitAsync(PackageFixtures.Timeout));
        Assert.False(await driver.EnsureUploadedAsync(_app.Package).WaitAsync(PackageFixtures.Timeout));

        // The zip is several chunks long, and arrives whole.
        using var downloaded = new MemoryStream();
        await driver.DownloadAsync(_app.Id, downloaded).WaitAsync(PackageFixtures.Timeout);
        Assert.True(downloaded.Length > 2 * PackageChunks.Size, $"The zip is only {downloaded.Length} bytes: one chunk.");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(server.Store.Directory, _app.Id + ".zip")), downloaded.ToArray());

        var node = new PackageClient(server.Channel.CreateCallInvoker());
        var cache = new PackageCache(_work["cache"]);
        var directory = await cache.EnsureAsync(_app.Id, (destination, ct) => node.DownloadAsync(_app.Id, destination, ct)).WaitAsync(PackageFixtures.Timeout);
        Assert.Equal(_app.Snapshot(), TempDirectory.Snapshot(directory));
    }

    [Fact]
    public async Task An_unknown_package_is_not_found_and_a_malformed_id_an_invalid_argument()
    {
        await using var server = await PackageServer.StartAsync(_work["store"]);
        var client = new PackageClient(server.Channel);

        var notFound = await Assert.ThrowsAsync<PackageNotFoundException>(
            () => client.DownloadAsync(_app.Id, Stream.Null)).WaitAsync(PackageFixtures.Timeout);
        Assert.Equal(StatusCode.NotFound, Assert.IsType<RpcException>(notFound.InnerException).StatusCode);
        Assert.Contains($"does not hold package {_app.Id}", notFound.Message, StringComparison.Ordinal);

        var malformed = await Assert.ThrowsAsync<InvalidPackageException>(() => client.HasPackageAsync("../secrets")).WaitAsync(PackageFixtures.Timeout);
        Assert.Equal(StatusCode.InvalidArgument, Assert.IsType<RpcException>(malformed.InnerException).StatusCode);
    }

    [Fact]
    public async Task A_zip_uploaded_under_a_wrong_id_is_an_invalid_argument_and_nothing_is_stored()
    {
        await using var server = await PackageServer.StartAsync(_work["store"]);
        var client = new PackageClient(server.Channel);
        var wrongId = new string('e', 64);

        var error = await Assert.ThrowsAsync<InvalidPackageException>(
            () => client.UploadAsync(wrongId, new MemoryStream(_app.Zip))).WaitAsync(PackageFixtures.Timeout);

        Assert.Equal(StatusCode.InvalidArgument, Assert.IsType<RpcException>(error.InnerException).StatusCode);
        Assert.Contains($"hashes to {_app.Id}, not to the id {wrongId}", error.Message, StringComparison.Ordinal);
        Assert.False(await client.HasPackageAsync(wrongId).WaitAsync(PackageFixtures.Timeout));
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.Store.Directory));
    }

    [Fact]
    public async Task A_package_over_the_limit_is_refused_before_it_is_sent()
    {
        await using var server = await PackageServer.StartAsync(_work["store"], maxPackageBytes: 64 << 10);
        var client = new PackageClient(server.Channel);

        var error = await Assert.ThrowsAsync<PackageTooLargeException>(() => client.EnsureUploadedAsync(_app.Package)).WaitAsync(PackageFixtures.Timeout);

        Assert.Equal(StatusCode.ResourceExhausted, Assert.IsType<RpcException>(error.InnerException).StatusCode);
        Assert.Contains("over the package store's limit of 64 KiB", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.Store.Directory));
    }

    /// <summary>A Kestrel server on 127.0.0.1 and a port the system picks, serving one store.</summary>
    private sealed class PackageServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private PackageServer(WebApplication app, PackageStore store, GrpcChannel channel)
        {
            _app = app;
            Store = store;
            Channel = channel;
        }

        public PackageStore Store { get; }

        public GrpcChannel Channel { get; }

        public static async Task<PackageServer> StartAsync(string directory, long maxPackageBytes = PackageStore.DefaultMaxPackageBytes)
        {
            var store = new PackageStore(directory, maxPackageBytes);
            var builder = WebApplication.CreateSlimBuilder();
            EmbeddedHost.Configure(builder, NullLoggerFactory.Instance, LogLevel.None);
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(store);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
            var app = builder.Build();
            app.MapGrpcService<PackageStoreService>();
            await app.StartAsync().WaitAsync(PackageFixtures.Timeout);
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            return new PackageServer(app, store, GrpcChannel.ForAddress(address));
        }

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await _app.StopAsync().WaitAsync(PackageFixtures.Timeout);
            await _app.DisposeAsync();
        }
    }
}
