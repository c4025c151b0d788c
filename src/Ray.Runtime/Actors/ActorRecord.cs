using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;

namespace Ray.Actors;

/// <summary>Where an actor is in its life.</summary>
internal enum ActorState
{
    /// <summary>Waiting for its constructor's <see cref="ObjectRef"/> arguments.</summary>
    PendingArgs,

    /// <summary>Waiting for a worker (or its dedicated process) or for CPUs.</summary>
    Placing,

    /// <summary>Its constructor was sent to a worker; calls are forwarded in order.</summary>
    Alive,

    /// <summary>Killed, failed to construct, or out of restarts. Calls fail with <see cref="ActorDiedException"/>.</summary>
    Dead,
}

/// <summary>The raylet's record of one actor (Ray's actor table entry). Guarded by the actor manager's lock.</summary>
internal sealed class ActorRecord
{
    public required ActorId Id { get; init; }

    public required CreateActor Spec { get; init; }

    public required TaskArgument[] ConstructorArguments { get; init; }

    /// <summary>The objects its constructor takes, kept alive (for restarts) until the actor is dead.</summary>
    public required ObjectId[] References { get; init; }

    public ActorState State { get; set; } = ActorState.PendingArgs;

    public int PendingArguments { get; set; }

    public WorkerHandle? Worker { get; set; }

    public int Restarts { get; set; }

    public bool HoldsResources { get; set; }

    public ErrorInfo? DeathCause { get; set; }

    /// <summary>Calls not yet sent, per caller in submission order: a call is sent only after every earlier one of its caller.</summary>
    public CallQueues Pending { get; } = new();

    /// <summary>Calls sent to the worker and not finished.</summary>
    public Dictionary<ObjectId, ActorCall> InFlight { get; } = [];

    public string ClassName => Spec.ClassName;
}

/// <summary>One call to an actor method.</summary>
internal sealed class ActorCall
{
    public required ObjectId Id { get; init; }

    public required SubmitActorTask Spec { get; init; }

    public required TaskArgument[] Arguments { get; init; }

    /// <summary>The call's result object, when this node owns the call; null for a call another node forwarded here.</summary>
    public required ObjectEntry? Result { get; init; }

    /// <summary>Who made the call: its calls run in order.</summary>
    public CallerKey Caller { get; init; }

    /// <summary>For a call forwarded here: where its outcome goes (to the caller's node).</summary>
    public Action<ActorCall, Scheduling.TaskResult>? Done { get; init; }

    /// <summary>The objects the call takes, kept alive until it ends.</summary>
    public required ObjectId[] References { get; init; }

    public int PendingArguments { get; set; }

    public int Attempts { get; set; }

    /// <summary>Submission order on this node, so retried calls go back in their original order.</summary>
    public long Sequence { get; set; }

    /// <summary>For a call of a streaming method forwarded here: where each of its items goes (to the caller's node), in order.</summary>
    public Action<ActorCall, int, Scheduling.TaskResult>? ItemDone { get; init; }

    /// <summary>For a call of a streaming method: the items accepted so far over all attempts; a retry skips that many.</summary>
    public int StreamItems { get; set; }

    /// <summary>For a call of a streaming method: how many items its reader has taken, as last heard.</summary>
    public long StreamConsumed { get; set; }
}
