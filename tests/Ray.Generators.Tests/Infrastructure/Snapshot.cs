using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace Ray.Generators.Tests.Infrastructure;

/// <summary>
/// Compares generated sources with baselines committed under <c>Snapshots/{Test}/{HintName}.verified.cs</c>
/// (Verify's naming: the hint name without its <c>.cs</c>). On a mismatch it writes
/// <c>{HintName}.received.cs</c> beside the baseline and fails with a diff; with <c>UPDATE_SNAPSHOTS=1</c> it
/// rewrites the baselines instead.
/// </summary>
internal static class Snapshot
{
    private const string VerifiedSuffix = ".verified.cs";
    private const string ReceivedSuffix = ".received.cs";
    private const int ContextLines = 2;

    private static bool Update => Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1";

    /// <summary>Verifies all sources of <paramref name="run"/> against the baselines of the calling test.</summary>
    public static void Verify(GeneratorRun run, [CallerMemberName] string testName = "", [CallerFilePath] string testFile = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots", testName);
        var actual = run.Sources.ToDictionary(
            source => FileStem(source.HintName),
            source => Normalize(source.SourceText.ToString()),
            StringComparer.Ordinal);

        if (Update)
        {
            Rewrite(directory, actual);
            return;
        }

        var expected = Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*" + VerifiedSuffix).ToDictionary(
                path => Path.GetFileName(path)[..^VerifiedSuffix.Length],
                path => Normalize(File.ReadAllText(path)),
                StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

        var failures = new StringBuilder();
        var missing = expected.Keys.Except(actual.Keys).Order(StringComparer.Ordinal).ToList();
        var extra = actual.Keys.Except(expected.Keys).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            failures.AppendLine($"Expected generated files that were not generated: {string.Join(", ", missing)}");
        }

        if (extra.Count > 0)
        {
            failures.AppendLine($"Generated files without a baseline: {string.Join(", ", extra)}");
        }

        foreach (var (stem, text) in actual.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            var receivedPath = Path.Combine(directory, stem + ReceivedSuffix);
            if (expected.TryGetValue(stem, out var expectedText) && expectedText == text)
            {
                File.Delete(receivedPath);
                continue;
            }

            Directory.CreateDirectory(directory);
            File.WriteAllText(receivedPath, text);
            if (expectedText is not null)
            {
                failures.AppendLine($"{stem}{VerifiedSuffix} differs from what was generated ({receivedPath}):");
                failures.AppendLine(Diff(expectedText, text));
            }
        }

        if (failures.Length > 0)
        {
            failures.AppendLine($"Run with UPDATE_SNAPSHOTS=1 to accept the generated files as the new baselines of '{testName}'.");
            throw new XunitException(failures.ToString());
        }
    }

    private static void Rewrite(string directory, Dictionary<string, string> actual)
    {
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.GetFiles(directory, "*" + VerifiedSuffix).Concat(Directory.GetFiles(directory, "*" + ReceivedSuffix)))
        {
            File.Delete(stale);
        }

        foreach (var (stem, text) in actual)
        {
            File.WriteAllText(Path.Combine(directory, stem + VerifiedSuffix), text);
        }
    }

    private static string FileStem(string hintName)
        => hintName.EndsWith(".cs", StringComparison.Ordinal) ? hintName[..^3] : hintName;

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>A line diff (longest common subsequence) with a little context: '-' expected, '+' generated.</summary>
    internal static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var lines = new List<(char Kind, int Line, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add((' ', x + 1, a[x]));
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                lines.Add(('-', x + 1, a[x]));
                x++;
            }
            else
            {
                lines.Add(('+', y + 1, b[y]));
                y++;
            }
        }

        var output = new StringBuilder();
        var lastPrinted = -1;
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Kind == ' ')
            {
                continue;
            }

            var from = Math.Max(lastPrinted + 1, i - ContextLines);
            if (from > lastPrinted + 1 && lastPrinted >= 0)
            {
                output.AppendLine("  ...");
            }

            for (var k = from; k <= Math.Min(lines.Count - 1, i + ContextLines); k++)
            {
                if (k <= lastPrinted)
                {
                    continue;
                }

                if (k > i && lines[k].Kind != ' ')
                {
                    break;
                }

                output.AppendLine($"{lines[k].Kind} {lines[k].Line,4}: {lines[k].Text}");
                lastPrinted = k;
            }
        }

        return output.ToString();
    }
}
