using Ray.Actors;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Replay;

/// <summary>
/// A task or actor method that threw, as its owner keeps it for replay: the function, its arguments as the owner held
/// them while the call ran (inline bytes, or the objects of future and large arguments), for an actor method the
/// actor's creation spec and constructor arguments, and the error. Made only when a call fails, from the spec the owner
/// held anyway, so a call that succeeds costs nothing here.
/// </summary>
internal sealed class CapturedCall
{
    public required ObjectId TaskId { get; init; }

    public required ulong FunctionId { get; init; }

    public required string FunctionName { get; init; }

    public required string AssemblyName { get; init; }

    public required TaskArgument[] Arguments { get; init; }

    /// <summary>For an actor method: how the actor was created (its class and constructor).</summary>
    public CreateActor? Actor { get; init; }

    /// <summary>For an actor method: the constructor's arguments.</summary>
    public TaskArgument[]? ConstructorArguments { get; init; }

    /// <summary>Every object the call and its actor's constructor reference: the capture keeps them alive while it is kept.</summary>
    public required ObjectId[] References { get; init; }

    public required ErrorInfo Error { get; init; }

    /// <summary>The process that submitted the call.</summary>
    public required int SubmitterPid { get; init; }

    public DateTime FailedAt { get; } = DateTime.UtcNow;

    public JobId Job => TaskId.Job;

    /// <summary>A task of this node that threw.</summary>
    public static CapturedCall Of(TaskRecord task, ErrorInfo error) => new()
    {
        TaskId = task.Id,
        FunctionId = task.FunctionId,
        FunctionName = task.FunctionName,
        AssemblyName = task.AssemblyName,
        Arguments = task.Arguments,
        References = task.References,
        Error = error,
        SubmitterPid = task.Result?.OwnerProcessId ?? 0,
    };

    /// <summary>A call of this node's process to an actor, which threw; <paramref name="actor"/> when this node knows how it was made.</summary>
    public static CapturedCall Of(ActorCall call, CreateActor? actor, TaskArgument[]? constructorArguments, ObjectId[]? constructorReferences, ErrorInfo error) => new()
    {
        TaskId = call.Id,
        FunctionId = call.Spec.MethodId,
        FunctionName = call.Spec.MethodName,
        AssemblyName = call.Spec.AssemblyName,
        Arguments = call.Arguments,
        Actor = actor,
        ConstructorArguments = constructorArguments,
        References = constructorReferences is { Length: > 0 } ? [.. call.References, .. constructorReferences] : call.References,
        Error = error,
        SubmitterPid = call.Result?.OwnerProcessId ?? 0,
    };
}
