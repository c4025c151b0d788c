using Ray.Runtime.Protocol;

namespace Ray.Replay;

/// <summary>
/// What a node keeps of one job's failed calls (<see cref="FailedTaskCaptureOptions"/> as the node applies it): the
/// bounds, the directory files go to, and the application directory recorded in them.
/// </summary>
internal sealed record CaptureSettings(bool Enabled, int MaxFailures, long MaxBytes, TimeSpan MaxAge, string? Directory, string AppDirectory)
{
    /// <summary>The defaults, for a job whose driver said nothing (a job this node learned of from another node).</summary>
    public static CaptureSettings Default { get; } = From(new FailedTaskCaptureOptions(), string.Empty);

    /// <summary>The settings of <paramref name="options"/>, checked.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is negative, or the age is not positive.</exception>
    public static CaptureSettings From(FailedTaskCaptureOptions options, string appDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxFailures, "RayOptions.FailedTaskCapture.MaxFailures");
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBytes, "RayOptions.FailedTaskCapture.MaxBytes");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxAge, TimeSpan.Zero, "RayOptions.FailedTaskCapture.MaxAge");
        var directory = string.IsNullOrEmpty(options.Directory) ? null : Path.GetFullPath(options.Directory);
        return new CaptureSettings(options.Enabled, options.MaxFailures, options.MaxBytes, options.MaxAge, directory, appDirectory);
    }

    /// <summary>The settings a cluster driver sent with its registration; unset limits take the defaults.</summary>
    public static CaptureSettings FromProto(FailedCallCapture? capture)
    {
        if (capture is null)
        {
            return Default;
        }

        return new CaptureSettings(
            !capture.Disabled,
            capture.HasMaxFailures ? Math.Max(0, capture.MaxFailures) : FailedTaskCaptureOptions.DefaultMaxFailures,
            capture.HasMaxBytes ? Math.Max(0, capture.MaxBytes) : FailedTaskCaptureOptions.DefaultMaxBytes,
            capture.HasMaxAgeMs && capture.MaxAgeMs > 0 ? TimeSpan.FromMilliseconds(capture.MaxAgeMs) : FailedTaskCaptureOptions.DefaultMaxAge,
            capture.Directory.Length > 0 ? capture.Directory : null,
            capture.AppDirectory);
    }

    /// <summary>The wire form, for a cluster driver's registration.</summary>
    public FailedCallCapture ToProto() => new()
    {
        Disabled = !Enabled,
        MaxFailures = MaxFailures,
        MaxBytes = MaxBytes,
        MaxAgeMs = (long)MaxAge.TotalMilliseconds,
        Directory = Directory ?? string.Empty,
        AppDirectory = AppDirectory,
    };
}
