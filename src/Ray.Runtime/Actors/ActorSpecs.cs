using Ray.Core;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Actors;

/// <summary>Builds the wire specs of actor creations and calls from descriptors and options, the same way in the driver and in workers.</summary>
internal static class ActorSpecs
{
    public static CreateActor Create(ActorId id, ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments)
    {
        var maxConcurrency = options?.MaxConcurrency ?? actorClass.MaxConcurrency;
        if (maxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), maxConcurrency, "MaxConcurrency must be at least 1.");
        }

        var spec = new CreateActor
        {
            ActorId = id.Value.ToProto(),
            ClassName = actorClass.Name,
            AssemblyName = actorClass.AssemblyName,
            ConstructorId = constructor.Id,
            ConstructorName = constructor.Name,
            Name = options?.Name ?? string.Empty,
            MaxRestarts = options?.MaxRestarts ?? actorClass.MaxRestarts,
            MaxTaskRetries = options?.MaxTaskRetries ?? actorClass.MaxTaskRetries,
            MaxConcurrency = maxConcurrency,
            NumCpus = options?.NumCpus ?? actorClass.NumCpus,
            DedicatedProcess = options?.DedicatedProcess ?? actorClass.DedicatedProcess,
        };
        if (options?.Resources is { } resources)
        {
            foreach (var (name, amount) in resources)
            {
                spec.Resources[name] = amount;
            }
        }

        var placement = Scheduling.Placement.From(options?.SchedulingStrategy);
        spec.Strategy = (int)placement.Kind;
        if (placement.Kind == Scheduling.PlacementKind.NodeAffinity)
        {
            spec.AffinityNode = Gcs.NodeIds.ToBytes(placement.Node);
            spec.AffinitySoft = placement.Soft;
        }
        ProtoArguments.AddTo(spec.Args, spec.Contained, arguments);
        return spec;
    }

    public static SubmitActorTask Call(ObjectId id, ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
    {
        var spec = new SubmitActorTask
        {
            ReturnId = id.ToProto(),
            ActorId = actor.Value.ToProto(),
            ClassName = actorClass.Name,
            MethodId = method.Id,
            MethodName = method.Name,
            AssemblyName = method.AssemblyName,
        };
        if (Scheduling.TaskSpecs.GeneratorBackpressure(method, null) is { } backpressure)
        {
            spec.Generator = new StreamingGenerator { BackpressureNumObjects = backpressure };
        }

        ProtoArguments.AddTo(spec.Args, spec.Contained, arguments);
        return spec;
    }

    /// <summary>What an actor holds for its whole life: its CPUs and custom resources.</summary>
    public static Scheduling.ResourceSet Resources(CreateActor spec) => Scheduling.ResourceSet.Create(spec.NumCpus, 0, spec.Resources.Count == 0 ? null : spec.Resources);

    /// <summary>Where the actor should be placed.</summary>
    public static Scheduling.Placement Placement(CreateActor spec) => (Scheduling.PlacementKind)spec.Strategy switch
    {
        Scheduling.PlacementKind.Spread => new Scheduling.Placement(Scheduling.PlacementKind.Spread),
        Scheduling.PlacementKind.NodeAffinity => new Scheduling.Placement(Scheduling.PlacementKind.NodeAffinity, Gcs.NodeIds.ToGuid(spec.AffinityNode), spec.AffinitySoft),
        _ => Scheduling.Placement.Default,
    };

    public static string UnknownName(string name) =>
        $"No live actor is named '{name}' in this job. Create it with WithOptions(new() {{ Name = \"{name}\" }}) first.";
}
