using System.Text.RegularExpressions;
using Grpc.Core;
using Ray.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>A driver connected to a standalone node (raygen start --head): tasks, actors, objects, output, cluster views.</summary>
[Collection(HeadClusterCollection.Name)]
public sealed class StandaloneNodeTests(HeadClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    /// <summary>A well-formed token that is not this cluster's.</summary>
    private static readonly string AnotherToken = ClusterToken.Generate().Value;

    [Fact]
    public async Task Tasks_actors_and_objects_run_on_the_clusters_node_not_in_the_driver()
    {
        Assert.True(fixture.Ray.IsConnectedToCluster);
        Assert.Equal(5, await ClusterTasks.Remote.Add(2, 3).GetAsync().AsTask().WaitAsync(Timeout));
        var pid = await ClusterTasks.Remote.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.NotEqual(Environment.ProcessId, pid);

        var counter = ClusterCounter.Remote(10);
        counter.Add(1);
        Assert.Equal(13, await counter.Add(2).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.NotEqual(pid, await counter.ProcessId().GetAsync().AsTask().WaitAsync(Timeout));

        // A large array goes into the node's shared memory (the driver is on its machine) and is read there.
        var values = Enumerable.Range(0, 200_000).Select(i => (double)i).ToArray();
        var stored = fixture.Ray.Put(values);
        Assert.Equal(values.Sum(), await ClusterTasks.Remote.Sum(stored).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains(fixture.Ray.ListObjects(), o => o.Id == stored.Id && o.Location == ObjectLocation.SharedMemory);
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task The_driver_and_its_tasks_see_the_node_and_the_clusters_resources()
    {
        var nodes = await fixture.Ray.GetNodesAsync().WaitAsync(Timeout);
        var head = Assert.Single(nodes);
        Assert.True(head.IsHead);
        Assert.True(head.IsAlive);
        Assert.Equal(fixture.Cluster.HeadAddress, head.Address);
        Assert.Equal(fixture.Cluster.Head.NodeId, head.NodeId);
        Assert.Equal(2, head.Resources["CPU"]);
        Assert.Equal(fixture.Cluster.Head.NodeId, fixture.Ray.NodeId);
        Assert.Equal(2, fixture.Ray.ClusterResources["CPU"]);

        Assert.Equal(head.NodeId, await ClusterTasks.Remote.NodeId().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal([head.NodeId], await ClusterTasks.Remote.NodesSeenInside().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(2, await ClusterTasks.Remote.CpusSeenInside().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task What_a_task_prints_reaches_the_drivers_console_with_its_pid_and_node_address()
    {
        var tag = Guid.NewGuid().ToString("n");
        await ClusterTasks.Remote.Print($"hello {tag}").GetAsync().AsTask().WaitAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        while (!fixture.WorkerOutput.Contains(tag))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The line did not reach the driver: {fixture.WorkerOutput}");
            await Task.Delay(20);
        }

        Assert.Matches($@"(?m)^\(pid=\d+, ip=127\.0\.0\.1\) hello {tag}\r?$", fixture.WorkerOutput);
    }

    [Fact]
    public async Task A_call_without_the_token_or_with_a_wrong_one_is_refused_at_every_entry_point_and_logged()
    {
        var address = fixture.Cluster.HeadAddress;

        // A driver.
        var driver = await Assert.ThrowsAsync<RayException>(() => ConnectSecondDriverAsync(address, AnotherToken));
        Assert.Contains("token is wrong", driver.Message);

        // The CLI.
        var (status, statusOutput) = await fixture.Cluster.RunCliAsync("status", "--address", address, "--auth-token", AnotherToken);
        Assert.NotEqual(0, status);
        Assert.Contains("token is wrong", statusOutput);

        // A node that wants to join.
        var (join, joinOutput) = await fixture.Cluster.RunCliAsync("start", "--address", address, "--node-ip-address", "127.0.0.9", "--auth-token", AnotherToken, "--block");
        Assert.NotEqual(0, join);
        Assert.Contains("token is wrong", joinOutput);

        // The GCS and the raylet over TCP, with no token at all.
        using var bare = Grpc.Net.Client.GrpcChannel.ForAddress($"http://{address}");
        var gcs = await Assert.ThrowsAsync<RpcException>(() => new Runtime.Protocol.Gcs.GcsClient(bare).GetNodesAsync(new GetNodesRequest(), deadline: DateTime.UtcNow + Timeout).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, gcs.StatusCode);
        Assert.Contains("token is missing", gcs.Status.Detail);
        using var call = new Runtime.Protocol.Raylet.RayletClient(bare).Connect(deadline: DateTime.UtcNow + Timeout);
        var raylet = await RefusedStreamAsync(call, new WorkerBatch());
        Assert.Equal(StatusCode.Unauthenticated, raylet.StatusCode);

        // The node-to-node link and the package store, the same way.
        using var link = new Runtime.Protocol.NodeLink.NodeLinkClient(bare).Connect(deadline: DateTime.UtcNow + Timeout);
        var linked = await RefusedStreamAsync(link, new NodeBatch());
        Assert.Equal(StatusCode.Unauthenticated, linked.StatusCode);
        var packages = await Assert.ThrowsAsync<RpcException>(() =>
            new Runtime.Protocol.PackageService.PackageServiceClient(bare).HasPackageAsync(new HasPackageRequest { PackageId = new string('0', 64) }, deadline: DateTime.UtcNow + Timeout).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, packages.StatusCode);

        // The object stream on the same port, with no token and with a wrong one.
        var (streamStatus, streamDetail) = await PullWithoutTokenAsync(address);
        Assert.Equal(StatusCode.Unauthenticated, streamStatus);
        Assert.Contains("token is missing", streamDetail);
        using (var objects = new ObjectManager.ObjectStreamClient(new ClusterCredentials(ClusterToken.Parse(AnotherToken, "the test")), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
        {
            var target = new ObjectManager.PullTarget(new byte[10], 10, 0, 10);
            var pulled = await Assert.ThrowsAsync<RpcException>(() => objects.PullAsync(address, ObjectId.New(), target, CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(StatusCode.Unauthenticated, pulled.StatusCode);
            Assert.Contains("token is wrong", pulled.Status.Detail);
        }

        await fixture.Cluster.Head.WaitForOutputAsync(@"Refused RAYGEN-OBJECTS/1 from 127\.0\.0\.1\S*: the cluster token is missing");
        await fixture.Cluster.Head.WaitForOutputAsync(@"Refused RAYGEN-OBJECTS/1 from 127\.0\.0\.1\S*: the cluster token is wrong");

        // The node says who was refused, and never prints the token.
        await fixture.Cluster.Head.WaitForOutputAsync(@"Refused \S+ from 127\.0\.0\.1\S*: the cluster token is missing");
        Assert.Matches("Refused .* the cluster token is wrong", fixture.Cluster.Head.Output);
        Assert.DoesNotContain(fixture.Cluster.Token, fixture.Cluster.Head.Output);

        // The cluster serves on.
        Assert.Equal(3, await ClusterTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [InlineData("no token", StatusCode.Unauthenticated, "token is missing")]
    [InlineData("wrong token", StatusCode.Unauthenticated, "token is wrong")]
    [InlineData("no hello frame", StatusCode.InvalidArgument, "must start with its hello frame")]
    [InlineData("no node hello", StatusCode.InvalidArgument, "The first message on a node link must be a hello.")]
    [InlineData("other protocol", StatusCode.FailedPrecondition, "protocol")]
    [InlineData("other runtime", StatusCode.FailedPrecondition, "Ray.Runtime 0.0.1-elsewhere")]
    public async Task A_node_link_that_opens_wrongly_is_refused_with_a_status_frame_and_logged(string kind, StatusCode expected, string reason)
    {
        var target = ClusterAddress.Parse(fixture.Cluster.HeadAddress);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(target.Host, target.Port).WaitAsync(Timeout);
        await using var stream = new System.Net.Sockets.NetworkStream(socket);
        var output = System.IO.Pipelines.PipeWriter.Create(stream, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));
        var hello = new NodeHello { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, NodeId = Google.Protobuf.ByteString.CopyFrom(Guid.NewGuid().ToByteArray()) };
        var first = new NodeBatch { Messages = { new NodeMessage { Hello = hello } } };
        switch (kind)
        {
            case "no token":
                FramedStream.WriteOpening(output, string.Empty, Raylet.NodeLinks.Magic);
                break;
            case "wrong token":
                FramedStream.WriteOpening(output, AnotherToken, Raylet.NodeLinks.Magic);
                break;
            case "no hello frame":
                System.Buffers.BuffersExtensions.Write(output, Raylet.NodeLinks.Magic);
                FramedStream.WriteMessage(output, first);
                break;
            default:
                FramedStream.WriteOpening(output, fixture.Cluster.Token, Raylet.NodeLinks.Magic);
                if (kind == "no node hello")
                {
                    first = new NodeBatch { Messages = { new NodeMessage { FreeObject = new FreeObject { Id = ObjectId.New().ToProto() } } } };
                }
                else if (kind == "other protocol")
                {
                    hello.ProtocolVersion += 1;
                }
                else
                {
                    hello.RuntimeVersion = "0.0.1-elsewhere";
                }

                FramedStream.WriteMessage(output, first);
                break;
        }

        await output.FlushAsync();
        var input = System.IO.Pipelines.PipeReader.Create(stream, new System.IO.Pipelines.StreamPipeReaderOptions(leaveOpen: true));
        var reader = new FramedStreamReader<NodeBatch>(input, NodeBatch.Parser, Raylet.NodeLinks.Protocol);
        var refused = await Assert.ThrowsAsync<RpcException>(() => reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(expected, refused.StatusCode);
        Assert.Contains(reason, refused.Status.Detail);
        if (expected == StatusCode.Unauthenticated)
        {
            await fixture.Cluster.Head.WaitForOutputAsync($@"Refused RAYGEN-NODE/1 from 127\.0\.0\.1\S*: the cluster {Regex.Escape(reason)}");
        }

        // The node takes its real links as before.
        Assert.Equal(3, await ClusterTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
    }

    /// <summary>Opens an object stream to <paramref name="address"/> and asks for an object with no token; returns the reply's status.</summary>
    private static async Task<(StatusCode Status, string Detail)> PullWithoutTokenAsync(string address)
    {
        var target = ClusterAddress.Parse(address);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(target.Host, target.Port).WaitAsync(Timeout);
        await using var stream = new System.Net.Sockets.NetworkStream(socket);
        var request = new System.Buffers.ArrayBufferWriter<byte>();
        System.Buffers.BuffersExtensions.Write(request, ObjectManager.ObjectStreamProtocol.Magic);
        ObjectManager.ObjectStreamProtocol.Write(request, new ObjectStreamRequest
        {
            ProtocolVersion = RuntimeVersion.Protocol,
            RuntimeVersion = RuntimeVersion.Current,
            Pull = new PullRequest { Id = ObjectId.New().ToProto() },
        });
        await stream.WriteAsync(request.WrittenMemory);
        var prefix = new byte[ObjectManager.ObjectStreamProtocol.LengthPrefixSize];
        await stream.ReadExactlyAsync(prefix).AsTask().WaitAsync(Timeout);
        var header = new byte[System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(prefix)];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Timeout);
        var reply = ObjectStreamReply.Parser.ParseFrom(header);
        return ((StatusCode)reply.Status, reply.Detail);
    }

    [Fact]
    public async Task A_head_that_cannot_be_reached_is_a_clear_error_for_drivers_and_the_cli()
    {
        var closed = $"127.0.0.1:{TestCluster.FreePort()}";
        var driver = await Assert.ThrowsAsync<RayException>(() => ConnectSecondDriverAsync(closed, fixture.Cluster.Token));
        Assert.Contains($"Could not reach the cluster at {closed}", driver.Message);

        var (status, output) = await fixture.Cluster.RunCliAsync("status", "--address", closed, "--auth-token", fixture.Cluster.Token);
        Assert.Equal(1, status);
        Assert.Contains($"Could not reach the head at {closed}", output);

        var (join, joinOutput) = await fixture.Cluster.RunCliAsync("start", "--address", closed, "--node-ip-address", "127.0.0.9", "--auth-token", fixture.Cluster.Token, "--block");
        Assert.NotEqual(0, join);
        Assert.Contains($"Could not reach the head at {closed}", joinOutput);
    }

    [Fact]
    public async Task A_second_head_on_a_port_in_use_exits_with_a_clear_error()
    {
        var port = fixture.Cluster.HeadAddress.Split(':')[1];
        var (exit, output) = await fixture.Cluster.RunCliAsync("start", "--head", "--port", port, "--auth-token", fixture.Cluster.Token, "--block");
        Assert.NotEqual(0, exit);
        Assert.Contains($"Port {port} on 127.0.0.1 is in use", output);
    }

    [Fact]
    public async Task A_node_or_driver_of_another_version_is_refused_with_both_versions()
    {
        using var channel = ClusterChannel.Create(fixture.Cluster.HeadAddress, new ClusterCredentials(ClusterToken.Parse(fixture.Cluster.Token, "test")));
        var reply = await new Runtime.Protocol.Gcs.GcsClient(channel).RegisterNodeAsync(new RegisterNodeRequest
        {
            ProtocolVersion = Core.RuntimeVersion.Protocol,
            RuntimeVersion = "0.0.0-other",
            Node = new GcsNodeInfo { NodeId = Gcs.NodeIds.ToBytes(Guid.NewGuid()), Address = "127.0.0.9:1" },
        }).ResponseAsync.WaitAsync(Timeout);
        Assert.Contains("0.0.0-other", reply.Error);
        Assert.Contains(Core.RuntimeVersion.Current, reply.Error);

        using var call = new Runtime.Protocol.Raylet.RayletClient(channel).Connect(deadline: DateTime.UtcNow + Timeout);
        await call.RequestStream.WriteAsync(new WorkerBatch
        {
            Messages = { new WorkerMessage { RegisterDriver = new RegisterDriver { ProtocolVersion = 999, RuntimeVersion = "9.9.9", Pid = 1 } } },
        });
        var driver = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.FailedPrecondition, driver.StatusCode);
        Assert.Contains("protocol 999", driver.Status.Detail);
    }

    /// <summary>A second driver cannot live in this process: the connection is tried with a throwaway runtime that never installs.</summary>
    private static async Task ConnectSecondDriverAsync(string address, string token)
    {
        var driver = await Core.ClusterDriver.ConnectAsync(
            address,
            new RayOptions { Address = address, AuthToken = token },
            Hosting.ClusterSession.Current,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            CancellationToken.None).WaitAsync(Timeout);
        await driver.DisposeAsync();
    }

    /// <summary>
    /// A stream the node refuses, written to and read as a caller does: the refusal, from the write or else from the read. The write fails with
    /// the refusal's status once the client has it, but with Cancelled when the refusal has reset the stream before the
    /// client read that status (grpc-dotnet has nothing better to report then); the read reports it in that case.
    /// </summary>
    private static async Task<RpcException> RefusedStreamAsync<TRequest, TResponse>(AsyncDuplexStreamingCall<TRequest, TResponse> call, TRequest first)
    {
        try
        {
            await call.RequestStream.WriteAsync(first);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            return e;
        }
        catch (RpcException)
        {
            // Only the reset so far: the refusal's status comes with the response.
        }

        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
    }
}
