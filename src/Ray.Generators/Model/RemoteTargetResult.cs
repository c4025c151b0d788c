using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>What the parser makes of one declaration marked <c>[Remote]</c>.</summary>
    /// <param name="Method">The task to generate, or null when there is none.</param>
    /// <param name="Actor">The actor to generate, or null when there is none.</param>
    /// <param name="Diagnostics">
    /// The problems found; a task with an error in its shape is not generated, an actor is generated without the members
    /// that have one, and a <c>[Remote]</c> value that the task or actor does not use leaves what is generated as it is.
    /// </param>
    internal sealed record RemoteTargetResult(
        RemoteMethodSpec? Method,
        ActorSpec? Actor,
        ImmutableEquatableArray<DiagnosticInfo> Diagnostics)
    {
        /// <summary>Nothing to generate and nothing to report.</summary>
        public static RemoteTargetResult Empty { get; } = new RemoteTargetResult(null, null, ImmutableEquatableArray<DiagnosticInfo>.Empty);
    }
}
