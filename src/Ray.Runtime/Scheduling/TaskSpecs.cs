using Google.Protobuf;
using Ray.Core;
using Ray.Gcs;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Scheduling;

/// <summary>
/// The one place that merges a call's options over its function's <c>[Remote]</c> values, for the driver and for
/// workers alike: resources, retries, name and placement.
/// </summary>
internal static class TaskSpecs
{
    /// <summary>The options of a task, merged.</summary>
    public static MergedOptions Merge(RemoteFunctionDescriptor function, TaskOptions? options) => new(
        ResourceSet.Create(options?.NumCpus ?? function.NumCpus, options?.NumGpus ?? function.NumGpus, options?.Resources),
        options?.MaxRetries ?? function.MaxRetries,
        options?.RetryExceptions ?? function.RetryExceptions,
        options?.Name,
        Placement.From(options?.SchedulingStrategy),
        GeneratorBackpressure(function, options?.GeneratorBackpressureNumObjects));

    /// <summary>
    /// The backpressure of a streaming function (its items written and not read at which it pauses; -1 for no limit), or
    /// null for a function that returns one value, which ignores the option.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The number is 0 or below -1.</exception>
    public static int? GeneratorBackpressure(RemoteFunctionDescriptor function, int? option)
    {
        if (!function.Streaming)
        {
            return null;
        }

        var backpressure = option ?? function.GeneratorBackpressureNumObjects;
        if (backpressure == 0 || backpressure < TaskOptions.NoBackpressure)
        {
            throw new ArgumentOutOfRangeException(
                nameof(TaskOptions.GeneratorBackpressureNumObjects),
                backpressure,
                $"GeneratorBackpressureNumObjects of {function.Name} must be at least 1 (the items the producer may write before the reader takes one), or -1 for no limit.");
        }

        return backpressure;
    }

    /// <summary>The message a worker sends to submit a task.</summary>
    public static SubmitTask Submit(ObjectId id, RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var merged = Merge(function, options);
        var submit = new SubmitTask
        {
            ReturnId = id.ToProto(),
            FunctionId = function.Id,
            FunctionName = function.Name,
            AssemblyName = function.AssemblyName,
            NumCpus = options?.NumCpus ?? function.NumCpus,
            NumGpus = options?.NumGpus ?? function.NumGpus,
            MaxRetries = merged.MaxRetries,
            RetryExceptions = merged.RetryExceptions,
            Name = merged.Name ?? string.Empty,
        };
        if (options?.Resources is { } resources)
        {
            foreach (var (name, amount) in resources)
            {
                submit.Resources[name] = amount;
            }
        }

        merged.Placement.WriteTo(submit);
        if (merged.GeneratorBackpressure is { } backpressure)
        {
            submit.Generator = new StreamingGenerator { BackpressureNumObjects = backpressure };
        }

        Core.ProtoArguments.AddTo(submit.Args, submit.Contained, arguments);
        return submit;
    }
}

/// <summary>A task's options after merging (see <see cref="TaskSpecs.Merge"/>).</summary>
internal readonly record struct MergedOptions(ResourceSet Resources, int MaxRetries, bool RetryExceptions, string? Name, Placement Placement, int? GeneratorBackpressure);

/// <summary>Where a task should run, as the scheduler reads it: the default policy, spread, or a node (hard or soft).</summary>
internal readonly record struct Placement(PlacementKind Kind, Guid Node = default, bool Soft = false)
{
    public static Placement Default => new(PlacementKind.Default);

    public static Placement From(SchedulingStrategy? strategy) => strategy switch
    {
        SchedulingStrategy.SpreadStrategy => new Placement(PlacementKind.Spread),
        SchedulingStrategy.NodeAffinityStrategy affinity => new Placement(PlacementKind.NodeAffinity, affinity.Node, affinity.Soft),
        _ => Default,
    };

    public static Placement From(SubmitTask submit) => (PlacementKind)submit.Strategy switch
    {
        PlacementKind.Spread => new Placement(PlacementKind.Spread),
        PlacementKind.NodeAffinity => new Placement(PlacementKind.NodeAffinity, NodeIds.ToGuid(submit.AffinityNode), submit.AffinitySoft),
        _ => Default,
    };

    public void WriteTo(SubmitTask submit)
    {
        submit.Strategy = (int)Kind;
        if (Kind == PlacementKind.NodeAffinity)
        {
            submit.AffinityNode = NodeIds.ToBytes(Node);
            submit.AffinitySoft = Soft;
        }
    }

    public override string ToString() => Kind switch
    {
        PlacementKind.Spread => "spread",
        PlacementKind.NodeAffinity => $"node {Node:n}{(Soft ? " (soft)" : string.Empty)}",
        _ => "default",
    };
}

internal enum PlacementKind
{
    Default = 0,
    Spread = 1,
    NodeAffinity = 2,
}
