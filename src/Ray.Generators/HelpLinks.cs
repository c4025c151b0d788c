using System.Globalization;

namespace Ray.Generators
{
    /// <summary>
    /// Where the help link of every RayGen rule points: the rule's page in the repository's <c>docs/diagnostics</c>
    /// folder, which the package carries too (under <c>docs/diagnostics</c>).
    /// </summary>
    public static class HelpLinks
    {
        /// <summary>The repository's address; a rule's page is the file <see cref="PagePath"/> in its main branch.</summary>
        public const string RepositoryUrl = "https://github.com/raygen/raygen";

        /// <summary>The page of rule <paramref name="id"/>, relative to the repository's root.</summary>
        public static string PagePath(string id) => $"docs/diagnostics/{id}.md";

        /// <summary>The help link of rule <paramref name="id"/>.</summary>
        public static string For(string id) => string.Format(CultureInfo.InvariantCulture, "{0}/blob/main/{1}", RepositoryUrl, PagePath(id));
    }
}
