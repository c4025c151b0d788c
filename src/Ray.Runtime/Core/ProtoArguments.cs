using Google.Protobuf.Collections;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>Converts task arguments to and from their wire form without copying payloads.</summary>
internal static class ProtoArguments
{
    public static TaskArgument[] FromProto(RepeatedField<TaskArg> args)
    {
        var arguments = new TaskArgument[args.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = args[i];
            arguments[i] = argument.KindCase == TaskArg.KindOneofCase.Reference
                ? TaskArgument.FromReference(argument.Reference.ToObjectId())
                : TaskArgument.FromBytes(argument.Value.Memory);
        }

        return arguments;
    }

    public static void AddTo(RepeatedField<TaskArg> args, TaskArgument[] arguments)
    {
        foreach (var argument in arguments)
        {
            args.Add(argument.IsReference
                ? new TaskArg { Reference = argument.Reference.ToProto() }
                : new TaskArg { Value = ProtoConversions.Wrap(argument.Value) });
        }
    }
}
