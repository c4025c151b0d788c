using System.ComponentModel;

namespace Ray.Infrastructure;

/// <summary>The entry point of generated task stubs.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TaskSubmitter
{
    /// <summary>Submits a task whose result has type <typeparamref name="T"/>.</summary>
    public static ObjectRef<T> Submit<T>(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var core = RayCore.Current;
        var result = ObjectRef<T>.Adopt(core.SubmitTask(function, options, arguments), core);
        TaskArgument.Submitted(arguments);
        return result;
    }

    /// <summary>Submits a streaming task (a generator) whose items have type <typeparamref name="T"/>; its descriptor says it streams.</summary>
    public static ObjectRefStream<T> SubmitStream<T>(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var core = RayCore.Current;
        var result = ObjectRefStream<T>.Adopt(core.SubmitTask(function, options, arguments), core);
        TaskArgument.Submitted(arguments);
        return result;
    }

    /// <summary>Submits a task that returns nothing.</summary>
    public static ObjectRef SubmitVoid(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var core = RayCore.Current;
        var result = ObjectRef.Adopt(core.SubmitTask(function, options, arguments), core);
        TaskArgument.Submitted(arguments);
        return result;
    }
}
