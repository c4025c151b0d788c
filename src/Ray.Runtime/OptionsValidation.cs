using Ray.ObjectStore;

namespace Ray;

/// <summary>Checks <see cref="RayOptions"/> before anything starts, so that a mistake is reported with the option named.</summary>
internal static class OptionsValidation
{
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static void Validate(RayOptions options)
    {
        if (options.NumCpus is { } cpus)
        {
            RequireAmount(cpus, "RayOptions.NumCpus");
        }

        RequireAmount(options.NumGpus, "RayOptions.NumGpus");
        if (options.NumWorkers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NumWorkers, "RayOptions.NumWorkers must be at least 1.");
        }

        foreach (var (name, amount) in options.Resources ?? new Dictionary<string, double>())
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentOutOfRangeException(nameof(options), name, "RayOptions.Resources names a resource with an empty name.");
            }

            if (name is "CPU" or "GPU")
            {
                // As in Ray: counted once, from the options made for them, rather than added up from two places.
                throw new ArgumentOutOfRangeException(nameof(options), name, $"RayOptions.Resources must not name {name}; set RayOptions.Num{(name == "CPU" ? "Cpus" : "Gpus")} instead.");
            }

            RequireAmount(amount, $"RayOptions.Resources['{name}']");
        }

        if (options.WorkerStartTimeout <= TimeSpan.Zero && options.WorkerStartTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.WorkerStartTimeout, "RayOptions.WorkerStartTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }

        ObjectStoreSettings.Validate(Hosting.NodeOptions.FromDriver(options));
    }

    private static void RequireAmount(double amount, string option)
    {
        if (!double.IsFinite(amount) || amount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"{option} must be a finite amount, 0 or more.");
        }
    }
}
