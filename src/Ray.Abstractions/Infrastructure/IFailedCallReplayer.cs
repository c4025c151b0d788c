namespace Ray.Infrastructure;

/// <summary>
/// Runs a failed call again in this process, from what its owner kept of it: the runtime attaches one to every
/// <see cref="RayTaskException"/> it raises (see <see cref="RayTaskException.Replay"/>).
/// </summary>
internal interface IFailedCallReplayer
{
    /// <summary>Runs the call on the calling thread; its exception propagates.</summary>
    void Replay(RayTaskException failure, CancellationToken cancellationToken);

    /// <summary>Runs the call; its exception faults the task.</summary>
    Task ReplayAsync(RayTaskException failure, CancellationToken cancellationToken);
}
