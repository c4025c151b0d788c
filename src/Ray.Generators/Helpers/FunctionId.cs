using System.Text;

namespace Ray.Generators.Helpers
{
    /// <summary>
    /// The stable id of a remote function: FNV-1a 64-bit over the UTF-8 bytes of its readable name.
    /// It must be the same in every process and build (string.GetHashCode is randomized per process),
    /// because the driver sends it and a worker looks the function up by it.
    /// </summary>
    internal static class FunctionId
    {
        private const ulong OffsetBasis = 0xcbf29ce484222325UL;
        private const ulong Prime = 0x100000001b3UL;

        /// <summary>Hashes <paramref name="readableName"/>, for example <c>MyApp.Work.Add(int, int)</c>.</summary>
        public static ulong Compute(string readableName)
        {
            var hash = OffsetBasis;
            foreach (var b in Encoding.UTF8.GetBytes(readableName))
            {
                hash ^= b;
                hash = unchecked(hash * Prime);
            }

            return hash;
        }
    }
}
