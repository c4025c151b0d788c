using System.Collections.Concurrent;
using System.Globalization;

namespace Ray.Scheduling;

/// <summary>
/// An immutable amount of named resources (<c>CPU</c>, <c>GPU</c> and custom ones). Equal sets are equal
/// values, so a set doubles as a scheduling class: tasks that ask for the same resources share queues and
/// leases. Sets are small sorted arrays: arithmetic is a merge, and the common shapes are cached, because
/// every lease grant and return does this arithmetic.
/// </summary>
internal sealed class ResourceSet : IEquatable<ResourceSet>
{
    public const string Cpu = "CPU";
    public const string Gpu = "GPU";

    private const double Tolerance = 1e-9;

    private const int MaxCommon = 4096;

    private static readonly ConcurrentDictionary<(double Cpus, double Gpus), ResourceSet> CommonSets = new();

    private static int s_commonCount;

    // Sorted by name (ordinal), zero amounts dropped: the canonical form equality relies on.
    private readonly string[] _names;
    private readonly double[] _amounts;
    private readonly int _hash;

    // CPUs and GPUs only: the shapes whose sums and differences come from the cache.
    private readonly bool _isCommon;

    private ResourceSet(string[] names, double[] amounts)
    {
        _names = names;
        _amounts = amounts;
        var hash = default(HashCode);
        for (var i = 0; i < names.Length; i++)
        {
            hash.Add(names[i]);
            hash.Add(Math.Round(amounts[i], 9));
        }

        _hash = hash.ToHashCode();
        _isCommon = true;
        for (var i = 0; i < names.Length && _isCommon; i++)
        {
            _isCommon = names[i] is Cpu or Gpu;
        }
    }

    public static ResourceSet Empty { get; } = new([], []);

    /// <summary>Whether the set holds nothing (every amount is zero).</summary>
    public bool IsEmpty => _names.Length == 0;

    public static ResourceSet Create(double cpus, double gpus, IReadOnlyDictionary<string, double>? custom)
    {
        if (custom is null || custom.Count == 0)
        {
            Check(Cpu, cpus);
            Check(Gpu, gpus);
            return Common(cpus, gpus);
        }

        return Build(cpus, gpus, custom);
    }

    /// <summary>A set from name/amount pairs, as the wire carries resources.</summary>
    public static ResourceSet FromMap(IEnumerable<KeyValuePair<string, double>> amounts) =>
        Build(0, 0, amounts as IReadOnlyDictionary<string, double> ?? amounts.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal));

    /// <summary>Writes the amounts into a wire map.</summary>
    public void CopyTo(IDictionary<string, double> map)
    {
        for (var i = 0; i < _names.Length; i++)
        {
            map[_names[i]] = _amounts[i];
        }
    }

    public double this[string name]
    {
        get
        {
            var index = Array.BinarySearch(_names, name, StringComparer.Ordinal);
            return index >= 0 ? _amounts[index] : 0;
        }
    }

    public IReadOnlyList<KeyValuePair<string, double>> Amounts =>
        [.. _names.Select((name, i) => new KeyValuePair<string, double>(name, _amounts[i]))];

    /// <summary>Whether <paramref name="request"/> fits into this set.</summary>
    public bool Contains(ResourceSet request)
    {
        for (var i = 0; i < request._names.Length; i++)
        {
            // A tiny tolerance keeps fractional requests such as 0.1 CPU from drifting apart.
            if (this[request._names[i]] + Tolerance < request._amounts[i])
            {
                return false;
            }
        }

        return true;
    }

    public ResourceSet Add(ResourceSet other) => other._names.Length == 0 ? this : Merge(other, 1);

    public ResourceSet Subtract(ResourceSet other) => other._names.Length == 0 ? this : Merge(other, -1);

    /// <summary>What is left after taking <paramref name="other"/>, never below zero for any resource.</summary>
    public ResourceSet Minus(ResourceSet other)
    {
        if (other._names.Length == 0 || _names.Length == 0)
        {
            return this;
        }

        if (_isCommon && other._isCommon)
        {
            return Common(Math.Max(0, this[Cpu] - other[Cpu]), Math.Max(0, this[Gpu] - other[Gpu]));
        }

        var names = new string[_names.Length];
        var amounts = new double[_names.Length];
        var count = 0;
        for (var i = 0; i < _names.Length; i++)
        {
            var amount = _amounts[i] - other[_names[i]];
            if (amount > Tolerance)
            {
                names[count] = _names[i];
                amounts[count++] = amount;
            }
        }

        return Of(names, amounts, count);
    }

    /// <summary>This set <paramref name="count"/> times over (empty for zero).</summary>
    public ResourceSet Times(int count)
    {
        if (count == 1 || _names.Length == 0)
        {
            return this;
        }

        if (count <= 0)
        {
            return Empty;
        }

        var amounts = new double[_amounts.Length];
        for (var i = 0; i < amounts.Length; i++)
        {
            amounts[i] = _amounts[i] * count;
        }

        return new ResourceSet(_names, amounts);
    }

    public bool Equals(ResourceSet? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._hash != _hash || other._names.Length != _names.Length)
        {
            return false;
        }

        for (var i = 0; i < _names.Length; i++)
        {
            if (!string.Equals(_names[i], other._names[i], StringComparison.Ordinal) || Math.Abs(_amounts[i] - other._amounts[i]) > Tolerance)
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ResourceSet);

    public override int GetHashCode() => _hash;

    public override string ToString() =>
        _names.Length == 0
            ? "{}"
            : "{" + string.Join(", ", _names.Select((name, i) => string.Create(CultureInfo.InvariantCulture, $"{name}: {_amounts[i]}"))) + "}";

    private static ResourceSet Build(double cpus, double gpus, IReadOnlyDictionary<string, double>? custom)
    {
        var amounts = new SortedDictionary<string, double>(StringComparer.Ordinal);
        Accumulate(amounts, Cpu, cpus);
        Accumulate(amounts, Gpu, gpus);
        if (custom is not null)
        {
            foreach (var (name, amount) in custom)
            {
                Accumulate(amounts, name, amount);
            }
        }

        return new ResourceSet([.. amounts.Keys], [.. amounts.Values]);
    }

    private static void Accumulate(SortedDictionary<string, double> amounts, string name, double amount)
    {
        Check(name, amount);
        if (amount != 0)
        {
            amounts[name] = amounts.GetValueOrDefault(name) + amount;
        }
    }

    private static void Check(string name, double amount)
    {
        if (amount < 0 || double.IsNaN(amount) || double.IsInfinity(amount))
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Resource '{name}' must be a finite, non-negative amount.");
        }
    }

    private ResourceSet Merge(ResourceSet other, int sign)
    {
        if (_isCommon && other._isCommon)
        {
            var cpus = this[Cpu] + (sign * other[Cpu]);
            var gpus = this[Gpu] + (sign * other[Gpu]);
            if (cpus > -Tolerance && gpus > -Tolerance)
            {
                return Common(cpus, gpus);
            }
        }

        var names = new string[_names.Length + other._names.Length];
        var amounts = new double[names.Length];
        int i = 0, j = 0, count = 0;
        while (i < _names.Length || j < other._names.Length)
        {
            var order = i == _names.Length ? 1 : j == other._names.Length ? -1 : string.CompareOrdinal(_names[i], other._names[j]);
            var (name, amount) = order < 0
                ? (_names[i], _amounts[i++])
                : order > 0
                    ? (other._names[j], sign * other._amounts[j++])
                    : (_names[i], _amounts[i++] + (sign * other._amounts[j++]));

            // Keep exhausted resources out of the canonical form; negative amounts never happen by construction.
            if (Math.Abs(amount) > Tolerance)
            {
                names[count] = name;
                amounts[count++] = amount;
            }
        }

        return Of(names, amounts, count);
    }

    /// <summary>The set of the first <paramref name="count"/> sorted pairs.</summary>
    private static ResourceSet Of(string[] names, double[] amounts, int count)
    {
        if (count == 0)
        {
            return Empty;
        }

        if (count < names.Length)
        {
            Array.Resize(ref names, count);
            Array.Resize(ref amounts, count);
        }

        return new ResourceSet(names, amounts);
    }

    /// <summary>The set of <paramref name="cpus"/> and <paramref name="gpus"/> (amounts within the tolerance of zero are none).</summary>
    private static ResourceSet Common(double cpus, double gpus)
    {
        cpus = cpus <= Tolerance ? 0 : cpus;
        gpus = gpus <= Tolerance ? 0 : gpus;
        if (cpus == 0 && gpus == 0)
        {
            return Empty;
        }

        if (CommonSets.TryGetValue((cpus, gpus), out var cached))
        {
            return cached;
        }

        // Sorted by name: "CPU" before "GPU".
        var set = cpus == 0 ? new ResourceSet([Gpu], [gpus])
            : gpus == 0 ? new ResourceSet([Cpu], [cpus])
            : new ResourceSet([Cpu, Gpu], [cpus, gpus]);
        return Cache((cpus, gpus), set);
    }

    /// <summary>Keeps <paramref name="set"/> as the cached set of its shape while the cache has room.</summary>
    private static ResourceSet Cache((double Cpus, double Gpus) shape, ResourceSet set)
    {
        // Sums of many queued tasks can take many values: the cache keeps the first few thousand shapes only.
        if (Volatile.Read(ref s_commonCount) >= MaxCommon)
        {
            return set;
        }

        if (CommonSets.TryAdd(shape, set))
        {
            Interlocked.Increment(ref s_commonCount);
            return set;
        }

        return CommonSets.TryGetValue(shape, out var cached) ? cached : set;
    }
}
