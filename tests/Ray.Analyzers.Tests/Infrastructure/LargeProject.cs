using System.Globalization;
using System.Text;

namespace Ray.Analyzers.Tests.Infrastructure;

/// <summary>
/// A synthetic project of the size the build-cost figures are measured on: many files of <c>[Remote]</c> methods
/// with varied signatures, and drivers that call them in loops.
/// </summary>
internal static class LargeProject
{
    /// <summary>The files (path, text): <paramref name="files"/> files of <paramref name="methodsPerFile"/> remote methods each.</summary>
    public static List<(string Path, string Text)> Create(int files, int methodsPerFile)
    {
        var result = new List<(string, string)>
        {
            ("Types.cs", """
                namespace Large;

                [MemoryPack.MemoryPackable]
                public partial record Point(int X, int Y);
                """),
        };
        for (var file = 0; file < files; file++)
        {
            result.Add(($"Tasks{file:D3}.cs", TaskFile(file, methodsPerFile)));
        }

        return result;
    }

    private static string TaskFile(int file, int methods)
    {
        var source = new StringBuilder();
        source.Append(CultureInfo.InvariantCulture, $"namespace Large;\n\npublic static partial class Tasks{file:D3}\n{{\n");
        for (var method = 0; method < methods; method++)
        {
            source.Append((method % 5) switch
            {
                0 => $"    [Remote] public static int M{method}(int x, int y) => x + y;\n",
                1 => $"    [Remote] public static double M{method}(double[] data, int seed) => data.Length + seed;\n",
                2 => $"    [Remote] public static List<Point> M{method}(List<Point> points, string name) => points;\n",
                3 => $"    [Remote] public static async Task<string> M{method}(string text, CancellationToken ct) {{ await Task.Yield(); return text; }}\n",
                _ => $"    [Remote] public static Dictionary<string, int[]> M{method}(Dictionary<string, int[]> map, ObjectRef<int> previous) => map;\n",
            });
        }

        source.Append("""

                public static async Task<int> Driver(RayRuntime ray)
                {
                    var data = ray.Put(new double[1000]);
                    var futures = new List<ObjectRef<int>>();
                    for (var i = 0; i < 10; i++)
                    {
                        futures.Add(Remote.M0(i, i));
                        _ = Remote.M1(data, i);
                    }

                    var values = await ray.GetAsync(futures);
                    return values.Sum();
                }
            }

            """);
        return source.ToString();
    }
}
