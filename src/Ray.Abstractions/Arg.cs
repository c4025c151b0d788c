namespace Ray;

/// <summary>
/// A remote-call argument: either a value of <typeparamref name="T"/> or a future (<see cref="ObjectRef{T}"/>) of one.
/// Both convert implicitly, so a generated stub accepts <c>Work.Remote.Add(1, 2)</c> and
/// <c>Work.Remote.Add(a, 3)</c> where <c>a</c> is an <c>ObjectRef&lt;int&gt;</c>, and nothing else compiles.
/// </summary>
/// <typeparam name="T">The parameter type of the remote method.</typeparam>
public readonly struct Arg<T>
{
    private readonly T? _value;

    private Arg(T? value, ObjectRef<T>? reference)
    {
        _value = value;
        Reference = reference;
    }

    /// <summary>The future this argument stands for, or <see langword="null"/> when it is a plain value.</summary>
    public ObjectRef<T>? Reference { get; }

    /// <summary>Whether this argument is a future that must be resolved before the task runs.</summary>
    public bool IsReference => Reference is not null;

    /// <summary>The plain value; only meaningful when <see cref="IsReference"/> is false.</summary>
    public T? Value => _value;

    /// <summary>Wraps a plain value.</summary>
    public static implicit operator Arg<T>(T value) => new(value, null);

    /// <summary>Wraps a future: the task runs once it is ready and receives its value.</summary>
    public static implicit operator Arg<T>(ObjectRef<T> reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return new(default, reference);
    }
}
