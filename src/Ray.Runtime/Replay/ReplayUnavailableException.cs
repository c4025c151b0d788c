namespace Ray.Replay;

/// <summary>
/// A failed call cannot be run again: it is not kept (evicted, not captured), or its code is not there. The message says
/// why. An <see cref="InvalidOperationException"/>, as <see cref="RayTaskException.Replay"/> documents; its own type lets
/// <c>raygen replay</c> tell it from what the replayed function throws.
/// </summary>
internal sealed class ReplayUnavailableException(string message, Exception? innerException = null) : InvalidOperationException(message, innerException);
