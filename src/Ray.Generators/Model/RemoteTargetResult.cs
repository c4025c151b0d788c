using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>What the parser makes of one declaration marked <c>[Remote]</c>.</summary>
    /// <param name="Method">The method to generate, or null when there is nothing to generate.</param>
    /// <param name="Diagnostics">The problems found; a method with an error is not generated.</param>
    internal sealed record RemoteTargetResult(RemoteMethodSpec? Method, ImmutableEquatableArray<DiagnosticInfo> Diagnostics)
    {
        /// <summary>Nothing to generate and nothing to report.</summary>
        public static RemoteTargetResult Empty { get; } = new RemoteTargetResult(null, ImmutableEquatableArray<DiagnosticInfo>.Empty);
    }
}
