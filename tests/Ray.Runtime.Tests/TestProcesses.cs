using System.Diagnostics;

namespace Ray.Runtime.Tests;

internal static class TestProcesses
{
    /// <summary>Sends SIGKILL to <paramref name="pid"/>, as <c>kill -9</c> from outside would, without waiting for a helper process.</summary>
    public static void Kill(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill();
    }
}
