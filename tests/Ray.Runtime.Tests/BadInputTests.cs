using Grpc.Core;
using Ray.Core;
using Ray.Hosting;
using Ray.Infrastructure;
using Ray.Raylet;
using Ray.Runtime.Protocol;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>Bad input gets a clear error and loses nothing: the node keeps serving afterwards.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class BadInputTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public async Task An_argument_that_does_not_deserialize_names_the_parameter()
    {
        var add = RemoteFunctionRegistry.All.Single(r => r.Descriptor.Name.Contains("TestTasks.Add(")).Descriptor;
        var garbage = TaskSubmitter.Submit<int>(add, null, [TaskArgument.FromBytes(new byte[] { 1 }), TaskArgument.FromBytes(new byte[] { 2 })]);
        var error = await Assert.ThrowsAsync<RayTaskException>(() => garbage.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(typeof(RaySerializationException).FullName, error.RemoteExceptionType);
        Assert.Contains("'x'", error.RemoteMessage);
        Assert.Contains("Int32", error.RemoteMessage);
        await AssertNodeServesAsync();
    }

    [Fact]
    public async Task A_missing_argument_is_reported()
    {
        var add = RemoteFunctionRegistry.All.Single(r => r.Descriptor.Name.Contains("TestTasks.Add(")).Descriptor;
        var missing = TaskSubmitter.Submit<int>(add, null, [TaskArgument.FromBytes(new byte[] { 1, 0, 0, 0 })]);
        var error = await Assert.ThrowsAsync<RayTaskException>(() => missing.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("'y'", error.RemoteMessage);
    }

    [Fact]
    public async Task An_unknown_function_id_is_reported()
    {
        var unknown = new RemoteFunctionDescriptor(0xdead_beef_0000_0001, "Nowhere.Missing()", typeof(BadInputTests).Assembly.GetName().Name!);
        var error = await Assert.ThrowsAsync<RayException>(() => TaskSubmitter.Submit<int>(unknown, null, []).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("Unknown function id", error.Message);
        Assert.Contains("Nowhere.Missing()", error.Message);
        await AssertNodeServesAsync();
    }

    [Fact]
    public async Task A_missing_assembly_is_reported()
    {
        var unknown = new RemoteFunctionDescriptor(0xdead_beef_0000_0002, "Nowhere.Missing()", "No.Such.Assembly");
        var error = await Assert.ThrowsAsync<RayException>(() => TaskSubmitter.Submit<int>(unknown, null, []).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("No.Such.Assembly", error.Message);
        Assert.Contains("application directory", error.Message);
    }

    [Fact]
    public void A_missing_worker_binary_is_reported()
    {
        var error = Assert.Throws<RayException>(() => WorkerLocator.Resolve(NodeOptions.FromDriver(new RayOptions { WorkerPath = "/nonexistent/Ray.Worker.dll" })));
        Assert.Contains("/nonexistent/Ray.Worker.dll", error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public async Task A_worker_of_another_version_is_rejected_with_the_reason()
    {
        var error = await ConnectAsync(new RegisterWorker { ProtocolVersion = 999, RuntimeVersion = "9.9.9", Pid = Environment.ProcessId });
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("protocol 999", error.Status.Detail);

        var runtime = await ConnectAsync(new RegisterWorker { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = "0.0.0-other", Pid = Environment.ProcessId });
        Assert.Equal(StatusCode.FailedPrecondition, runtime.StatusCode);
        Assert.Contains("0.0.0-other", runtime.Status.Detail);
        await AssertNodeServesAsync();
    }

    [Fact]
    public async Task A_connection_without_the_nodes_token_or_with_another_is_refused_and_says_which()
    {
        using var channel = UnixSocketChannel.Create(fixture.Ray.RayletSocketPath!);
        var client = new global::Ray.Runtime.Protocol.Raylet.RayletClient(channel);
        foreach (var (headers, problem) in new[] { (new Metadata(), "missing"), (TokenMetadata.For(ClusterToken.Generate().Value), "wrong") })
        {
            using var call = client.Connect(headers, deadline: DateTime.UtcNow + Timeout);
            await call.RequestStream.WriteAsync(new WorkerBatch { Messages = { new WorkerMessage { Register = new RegisterWorker { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, Pid = Environment.ProcessId } } } });
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
            Assert.Contains($"token is {problem}", error.Status.Detail);
            Assert.DoesNotContain(fixture.Ray.Host!.AuthToken, error.Status.Detail);
        }

        await AssertNodeServesAsync();
    }

    [Fact]
    public async Task A_process_the_raylet_did_not_start_cannot_register()
    {
        var error = await ConnectAsync(new RegisterWorker { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, Pid = Environment.ProcessId });
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task A_malformed_message_ends_only_that_connection()
    {
        using var channel = UnixSocketChannel.Create(fixture.Ray.RayletSocketPath!);
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "ray.rpc.Raylet", "Connect", bytes, bytes);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(headers: TokenHeader(), deadline: DateTime.UtcNow + Timeout));
        await call.RequestStream.WriteAsync([0xff, 0xff, 0xff, 0xff, 0x0f]);
        await call.RequestStream.CompleteAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        // The handler fails parsing the message, and says so; a deadline or a dropped connection would read otherwise.
        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Contains("InvalidProtocolBufferException", error.Status.Detail);

        // A first message that is not a registration is refused too.
        var notRegister = await SendAsync(new WorkerBatch { Messages = { new WorkerMessage { Get = new GetObject { Id = ObjectId.New().ToProto() } } } });
        Assert.Equal(StatusCode.InvalidArgument, notRegister.StatusCode);
        await AssertNodeServesAsync();
    }

    private static async Task AssertNodeServesAsync() =>
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));

    private Task<RpcException> ConnectAsync(RegisterWorker registration) =>
        SendAsync(new WorkerBatch { Messages = { new WorkerMessage { Register = registration } } });

    private async Task<RpcException> SendAsync(WorkerBatch batch)
    {
        using var channel = UnixSocketChannel.Create(fixture.Ray.RayletSocketPath!);
        var client = new global::Ray.Runtime.Protocol.Raylet.RayletClient(channel);
        using var call = client.Connect(TokenHeader(), deadline: DateTime.UtcNow + Timeout);
        await call.RequestStream.WriteAsync(batch);
        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
    }

    private Metadata TokenHeader() => TokenMetadata.For(fixture.Ray.Host!.AuthToken);
}
