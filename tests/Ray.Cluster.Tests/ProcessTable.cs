namespace Ray.Cluster.Tests;

/// <summary>What Linux's <c>/proc</c> says about the processes of this machine: who runs, whose child, with what command and environment.</summary>
internal static class ProcessTable
{
    /// <summary>Whether a process with this pid runs (a zombie does not count).</summary>
    public static bool IsRunning(int pid) => State(pid) is { } state && state is not ("Z" or "X");

    /// <summary>The session a process belongs to (the pid of its leader); -1 when it does not run.</summary>
    public static int SessionOf(int pid) => Stat(pid) is { } fields ? int.Parse(fields[3]) : -1;

    /// <summary>The worker processes a node runs now: its children running Ray.Worker.</summary>
    public static int[] WorkersOf(int nodePid) =>
        AllPids().Where(pid => ParentOf(pid) == nodePid && CommandLine(pid).Contains("Ray.Worker.dll", StringComparison.Ordinal)).ToArray();

    /// <summary>The processes whose environment has <paramref name="name"/> set to <paramref name="value"/>.</summary>
    public static int[] WithEnvironment(string name, string value)
    {
        var entry = $"{name}={value}";
        return AllPids().Where(pid => Environment(pid).Split('\0').Contains(entry, StringComparer.Ordinal)).ToArray();
    }

    private static IEnumerable<int> AllPids() =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    private static int ParentOf(int pid) => Stat(pid) is { } fields && fields[0] is not ("Z" or "X") ? int.Parse(fields[1]) : -1;

    private static string? State(int pid) => Stat(pid)?[0];

    /// <summary>The fields of <c>/proc/PID/stat</c> after the command name: state, parent, …</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string CommandLine(int pid) => Read($"/proc/{pid}/cmdline");

    private static string Environment(int pid) => Read($"/proc/{pid}/environ");

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
