using System.Globalization;
using System.Text;

namespace Ray.Scheduling;

/// <summary>
/// An immutable amount of named resources (<c>CPU</c>, <c>GPU</c> and custom ones). Equal sets are equal
/// values, so a set doubles as a scheduling class: tasks that ask for the same resources share queues and leases.
/// </summary>
internal sealed class ResourceSet : IEquatable<ResourceSet>
{
    public const string Cpu = "CPU";
    public const string Gpu = "GPU";

    // Sorted by name, zero amounts dropped: the canonical form that equality and the key rely on.
    private readonly KeyValuePair<string, double>[] _amounts;
    private readonly string _key;

    private ResourceSet(KeyValuePair<string, double>[] amounts)
    {
        _amounts = amounts;
        var key = new StringBuilder();
        foreach (var (name, amount) in amounts)
        {
            key.Append(name).Append('=').Append(amount.ToString("R", CultureInfo.InvariantCulture)).Append(';');
        }

        _key = key.ToString();
    }

    public static ResourceSet Empty { get; } = new([]);

    public static ResourceSet Create(double cpus, double gpus, IReadOnlyDictionary<string, double>? custom)
    {
        var amounts = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (cpus != 0)
        {
            amounts[Cpu] = cpus;
        }

        if (gpus != 0)
        {
            amounts[Gpu] = gpus;
        }

        if (custom is not null)
        {
            foreach (var (name, amount) in custom)
            {
                if (amount < 0 || double.IsNaN(amount))
                {
                    throw new ArgumentOutOfRangeException(nameof(custom), $"Resource '{name}' has an invalid amount {amount}.");
                }

                if (amount != 0)
                {
                    amounts[name] = amounts.GetValueOrDefault(name) + amount;
                }
            }
        }

        return new ResourceSet([.. amounts]);
    }

    public double this[string name]
    {
        get
        {
            foreach (var (key, amount) in _amounts)
            {
                if (key == name)
                {
                    return amount;
                }
            }

            return 0;
        }
    }

    public IReadOnlyList<KeyValuePair<string, double>> Amounts => _amounts;

    /// <summary>Whether <paramref name="request"/> fits into this set.</summary>
    public bool Contains(ResourceSet request)
    {
        foreach (var (name, amount) in request._amounts)
        {
            // A tiny tolerance keeps fractional requests such as 0.1 CPU from drifting apart.
            if (this[name] + 1e-9 < amount)
            {
                return false;
            }
        }

        return true;
    }

    public ResourceSet Add(ResourceSet other) => Combine(other, 1);

    public ResourceSet Subtract(ResourceSet other) => Combine(other, -1);

    public bool Equals(ResourceSet? other) => other is not null && other._key == _key;

    public override bool Equals(object? obj) => Equals(obj as ResourceSet);

    public override int GetHashCode() => _key.GetHashCode(StringComparison.Ordinal);

    public override string ToString() =>
        _amounts.Length == 0
            ? "{}"
            : "{" + string.Join(", ", _amounts.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key}: {a.Value}"))) + "}";

    private ResourceSet Combine(ResourceSet other, int sign)
    {
        var amounts = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, amount) in _amounts)
        {
            amounts[name] = amount;
        }

        foreach (var (name, amount) in other._amounts)
        {
            amounts[name] = amounts.GetValueOrDefault(name) + (sign * amount);
        }

        // Keep the node's zero-valued resources out of the key; negative amounts never happen by construction.
        return new ResourceSet([.. amounts.Where(a => Math.Abs(a.Value) > 1e-12)]);
    }
}
