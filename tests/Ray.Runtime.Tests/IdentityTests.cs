using MemoryPack;
using Ray.Infrastructure;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>Ids name their job, task and index; references carry their owner; a task's spec lives as long as its result.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class IdentityTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public void An_object_id_is_its_tasks_id_and_an_index_and_round_trips_through_bytes()
    {
        var task = new TaskId(new JobId(3), 0xabcdef, 42);
        var id = task.ReturnId();
        Assert.Equal(task, id.Task);
        Assert.Equal(new JobId(3), id.Job);
        Assert.Equal(1u, id.Index);
        Assert.NotEqual(id, task.ReturnId(0));

        var bytes = new byte[ObjectId.Size];
        id.WriteTo(bytes);
        Assert.Equal(id, ObjectId.ReadFrom(bytes));
        Assert.Equal(48, id.ToString().Length);
        Assert.Throws<FormatException>(() => ObjectId.ReadFrom(bytes.AsSpan(1)));
    }

    [Fact]
    public async Task Results_puts_and_actors_of_the_driver_and_of_workers_belong_to_the_job()
    {
        var result = TestTasks.Remote.Add(1, 2);
        Assert.Equal(JobId.Embedded, result.Id.Job);
        Assert.Equal(1u, result.Id.Index);

        var put = fixture.Ray.Put(5);
        Assert.Equal(JobId.Embedded, put.Id.Job);
        Assert.Equal(0u, put.Id.Index);
        Assert.NotEqual(result.Id.Task, put.Id.Task);

        var counter = Counter.Remote(0);
        Assert.Equal(JobId.Embedded, counter.Id.Job);

        var inner = await TestTasks.Remote.PutInside(9).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(JobId.Embedded, inner.Id.Job);
        Assert.NotEqual(put.Id.Task.Process, inner.Id.Task.Process);
        Assert.Equal(3, await result.GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task A_reference_carries_its_owner_across_processes()
    {
        var node = fixture.Ray.Node!;
        var local = fixture.Ray.Put(1);
        Assert.Equal(new OwnerAddress(node.NodeGuid, Environment.ProcessId), local.Owner);

        var copy = MemoryPackSerializer.Deserialize<ObjectRef<int>>(MemoryPackSerializer.Serialize(local))!;
        Assert.Equal(local.Id, copy.Id);
        Assert.Equal(local.Owner, copy.Owner);

        // A worker's put is owned by the same node on behalf of the worker's process.
        var inner = await TestTasks.Remote.PutInside(2).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(node.NodeGuid, inner.Owner.Node);
        Assert.Contains(inner.Owner.ProcessId, fixture.Ray.WorkerProcessIds);

        var counter = Counter.Remote(0);
        var handle = MemoryPackSerializer.Deserialize<ActorHandle<Counter>>(MemoryPackSerializer.Serialize(counter))!;
        Assert.Equal(counter.Owner, handle.Owner);
        Assert.Equal(node.NodeGuid, handle.Owner.Node);
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task A_tasks_spec_is_kept_while_its_result_lives()
    {
        var result = TestTasks.Remote.Add(20, 22);
        Assert.Equal(42, await result.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.True(fixture.Ray.Node!.Objects.TryGet(result.Id, out var entry));
        var lineage = Assert.IsType<Scheduling.TaskRecord>(entry.Lineage);
        Assert.Equal(result.Id, lineage.Id);
        Assert.Contains("TestTasks.Add", lineage.FunctionName);
        Assert.Equal(2, lineage.Arguments.Length);

        var put = fixture.Ray.Put(1);
        Assert.True(fixture.Ray.Node.Objects.TryGet(put.Id, out var putEntry));
        Assert.Null(putEntry.Lineage);
    }
}
