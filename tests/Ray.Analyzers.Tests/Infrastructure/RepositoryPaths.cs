namespace Ray.Analyzers.Tests.Infrastructure;

/// <summary>Files of this repository that the tests read: samples, docs, release tracking.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder that holds RayGen.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>A path under the repository root, written with '/'.</summary>
    public static string Combine(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RayGen.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No RayGen.sln above {AppContext.BaseDirectory}.");
    }
}
