using Grpc.Core;

namespace Ray.Packages;

/// <summary>
/// A package store or cache refused a package. Each kind maps to one gRPC status, so the same exception a local store
/// throws reaches the caller of <see cref="PackageClient"/> when a remote store throws it, with the store's message.
/// </summary>
internal abstract class PackageException(string message, Exception? innerException = null)
    : RayException(message, innerException)
{
    /// <summary>The status this refusal travels as.</summary>
    public abstract StatusCode StatusCode { get; }

    /// <summary>The exception a gRPC service throws to send this refusal to its caller.</summary>
    public RpcException ToRpcException() => new(new Status(StatusCode, Message));

    /// <summary>The refusal <paramref name="e"/> carries, or <see langword="null"/> when it is not one (a transport failure).</summary>
    public static PackageException? FromRpcException(RpcException e) => e.StatusCode switch
    {
        StatusCode.NotFound => new PackageNotFoundException(e.Status.Detail, e),
        StatusCode.InvalidArgument => new InvalidPackageException(e.Status.Detail, e),
        StatusCode.ResourceExhausted => new PackageTooLargeException(e.Status.Detail, e),
        _ => null,
    };
}

/// <summary>The store does not hold a package with the id asked for.</summary>
internal sealed class PackageNotFoundException(string message, Exception? innerException = null)
    : PackageException(message, innerException)
{
    public override StatusCode StatusCode => StatusCode.NotFound;
}

/// <summary>
/// A package that is not what it claims to be: its content does not hash to its id, it is not a zip, an entry would
/// land outside the package directory, an upload ended early, or the id itself is malformed.
/// </summary>
internal sealed class InvalidPackageException(string message, Exception? innerException = null)
    : PackageException(message, innerException)
{
    public override StatusCode StatusCode => StatusCode.InvalidArgument;
}

/// <summary>A package over the store's size limit.</summary>
internal sealed class PackageTooLargeException(string message, Exception? innerException = null)
    : PackageException(message, innerException)
{
    public override StatusCode StatusCode => StatusCode.ResourceExhausted;
}
