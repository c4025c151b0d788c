using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Core;
using Ray.Infrastructure;

namespace Ray.Replay;

/// <summary>
/// What a <see cref="RayTaskException"/> raised by this process's runtime replays through: it asks the call's owner (this
/// process's node) for the kept call and runs it here with <see cref="CallReplayer"/>.
/// </summary>
internal sealed class FailedCallReplayer(CoreWorker core) : IFailedCallReplayer
{
    private CallReplayer _replayer = new(CallReplayer.LoadIntoDefaultContext, NullLogger.Instance);

    /// <summary>Where replays are logged (category <c>Ray.Replay</c>).</summary>
    public ILogger Logger
    {
        set => _replayer = new CallReplayer(CallReplayer.LoadIntoDefaultContext, value);
    }

    public void Replay(RayTaskException failure, CancellationToken cancellationToken) =>
        _replayer.Run(core.FetchFailedCall(failure.FailedTask, cancellationToken), cancellationToken);

    public async Task ReplayAsync(RayTaskException failure, CancellationToken cancellationToken)
    {
        var record = await core.FetchFailedCallAsync(failure.FailedTask, cancellationToken).ConfigureAwait(false);
        await _replayer.RunAsync(record, cancellationToken).ConfigureAwait(false);
    }
}
