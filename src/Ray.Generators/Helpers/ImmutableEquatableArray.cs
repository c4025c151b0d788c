using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace Ray.Generators.Helpers
{
    /// <summary>
    /// An immutable array compared by its elements, so that specs holding collections stay equal across
    /// generator runs and the incremental pipeline can cache them (ImmutableArray compares by reference).
    /// </summary>
    /// <typeparam name="T">The element type; must itself have value equality.</typeparam>
    internal sealed class ImmutableEquatableArray<T> : IEquatable<ImmutableEquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        private readonly T[] _values;

        /// <summary>Creates an array holding <paramref name="values"/> in their order.</summary>
        public ImmutableEquatableArray(IEnumerable<T> values)
        {
            _values = values.ToArray();
        }

        /// <summary>The empty array.</summary>
        public static ImmutableEquatableArray<T> Empty { get; } = new ImmutableEquatableArray<T>(Array.Empty<T>());

        /// <inheritdoc/>
        public T this[int index] => _values[index];

        /// <inheritdoc/>
        public int Count => _values.Length;

        /// <inheritdoc/>
        public bool Equals(ImmutableEquatableArray<T>? other)
        {
            if (ReferenceEquals(this, other))
            {
                return true;
            }

            if (other is null || other._values.Length != _values.Length)
            {
                return false;
            }

            for (var i = 0; i < _values.Length; i++)
            {
                if (!EqualityComparer<T>.Default.Equals(_values[i], other._values[i]))
                {
                    return false;
                }
            }

            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is ImmutableEquatableArray<T> other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            var hash = 17;
            foreach (var value in _values)
            {
                hash = unchecked((hash * 31) + (value is null ? 0 : value.GetHashCode()));
            }

            return hash;
        }

        /// <inheritdoc/>
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_values).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => _values.GetEnumerator();
    }

    /// <summary>Creates <see cref="ImmutableEquatableArray{T}"/>s.</summary>
    internal static class ImmutableEquatableArray
    {
        /// <summary>Copies <paramref name="values"/> into an equatable array.</summary>
        public static ImmutableEquatableArray<T> ToImmutableEquatableArray<T>(this IEnumerable<T> values)
            where T : IEquatable<T>
            => new ImmutableEquatableArray<T>(values);
    }
}
