using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ray.ObjectStore;

/// <summary>
/// A directory that belongs to one running node (its shared-memory arena, its spilled objects), named
/// <c>raygen-{pid}-{id}</c> and holding a lock file that the node keeps open with an exclusive lock for as long as
/// it runs. A node that was killed cannot delete its directories, but its lock dies with it: the next node to start
/// finds the directory unlocked and deletes it, so killed nodes do not leave shared memory behind.
/// </summary>
internal sealed class NodeDirectory : IDisposable
{
    private const string Prefix = "raygen-";
    private const string LockFileName = "node.lock";

    private readonly FileStream _lock;

    private NodeDirectory(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    public string Path { get; }

    /// <summary>Creates <c>{root}/raygen-{pid}-{nodeId}{suffix}</c> and locks it.</summary>
    public static NodeDirectory Create(string root, string nodeId, string suffix)
    {
        var path = System.IO.Path.Combine(root, $"{Prefix}{Environment.ProcessId}-{nodeId}{suffix}");
        Directory.CreateDirectory(path);

        // FileShare.None takes an exclusive advisory lock (flock) on Unix; the pid and start time inside cover
        // systems where .NET's file locking is switched off.
        var lockFile = new FileStream(System.IO.Path.Combine(path, LockFileName), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        using (var writer = new StreamWriter(lockFile, leaveOpen: true))
        {
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {ProcessStartTime(Environment.ProcessId)}"));
        }

        lockFile.Flush();
        return new NodeDirectory(path, lockFile);
    }

    /// <summary>Deletes the directories under <paramref name="root"/> left by nodes that no longer run; returns how many.</summary>
    public static int DeleteStale(string root, ILogger logger)
    {
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var directory in Directory.EnumerateDirectories(root, Prefix + "*"))
        {
            var lockPath = System.IO.Path.Combine(directory, LockFileName);
            if (!File.Exists(lockPath) || !IsAbandoned(lockPath))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
                deleted++;
                logger.LogInformation("Deleted {Directory}, left behind by a node that stopped without cleaning up.", directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not delete {Directory}, left behind by a node that no longer runs: {Reason}", directory, e.Message);
            }
        }

        return deleted;
    }

    /// <summary>
    /// Deletes <paramref name="path"/> if the node that made it no longer runs (its lock is free); a worker whose raylet
    /// died calls this so that a killed node leaves nothing behind even if no node starts after it.
    /// </summary>
    public static bool DeleteIfAbandoned(string path, int attempts = 1)
    {
        var lockPath = System.IO.Path.Combine(path, LockFileName);
        if (!System.IO.Path.GetFileName(path).StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        // The lock is probed exclusively, so processes that probe at the same moment (the orphaned workers of one
        // node) see it locked for each other: those that know its owner died try again a few times.
        var abandoned = false;
        for (var attempt = 0; attempt < attempts && !abandoned; attempt++)
        {
            if (!File.Exists(lockPath))
            {
                return false;
            }

            abandoned = IsAbandoned(lockPath);
            if (!abandoned && attempt + 1 < attempts)
            {
                Thread.Sleep(Random.Shared.Next(5, 25));
            }
        }

        if (!abandoned)
        {
            return false;
        }

        try
        {
            Directory.Delete(path, recursive: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another orphaned worker deleted it first, or the next node will.
            return false;
        }
    }

    public void Dispose()
    {
        _lock.Dispose();

        // A file created in it meanwhile (a worker's, as it exits) makes one pass fail with "not empty": try again.
        for (var attempt = 0; attempt < 3 && Directory.Exists(Path); attempt++)
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another node deletes it at its next start, if this does not.
            }
        }
    }

    private static bool IsAbandoned(string lockPath)
    {
        string owner;
        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None);
            using var reader = new StreamReader(probe);
            owner = reader.ReadToEnd();
        }
        catch (IOException)
        {
            // Locked: its node is running.
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }

        var parts = owner.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid))
        {
            // Not written completely: its node died while starting.
            return true;
        }

        if (OperatingSystem.IsLinux())
        {
            return ProcessStartTime(pid) != parts[1];
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>
    /// The start time of a process as Linux records it (field 22 of <c>/proc/{pid}/stat</c>), which tells a reused
    /// pid from the original; empty when the process is gone (a zombie, exited but not yet reaped, counts as gone) or
    /// the platform has no <c>/proc</c>.
    /// </summary>
    internal static string ProcessStartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 && fields[0] is not ("Z" or "X") ? fields[19] : string.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
