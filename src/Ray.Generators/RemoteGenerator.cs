using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Ray.Generators.Helpers;
using Ray.Generators.Model;

namespace Ray.Generators
{
    /// <summary>
    /// Generates the <c>Remote</c> stubs, descriptors and worker registration of <c>[Ray.Remote]</c> static
    /// methods (tasks) and classes (actors). This file is only the pipeline: <see cref="Parser"/> turns symbols
    /// into specs, <see cref="Emitter"/> turns specs into source.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class RemoteGenerator : IIncrementalGenerator
    {
        /// <summary>The metadata name of the attribute that marks remote methods and actors.</summary>
        public const string RemoteAttributeMetadataName = "Ray.RemoteAttribute";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var targets = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    RemoteAttributeMetadataName,
                    static (_, _) => true,
                    Parser.Parse)
                .WithTrackingName(TrackingNames.RemoteTargets);

            var methods = targets
                .SelectMany(static (target, _) => target.Method is { } method
                    ? ImmutableArray.Create(method)
                    : ImmutableArray<RemoteMethodSpec>.Empty)
                .WithTrackingName(TrackingNames.RemoteMethods);

            var assemblyName = context.CompilationProvider
                .Select(static (compilation, _) => compilation.AssemblyName ?? string.Empty)
                .WithTrackingName(TrackingNames.AssemblyName);

            // One file per containing type, so methods are collected and grouped; the per-type specs compare
            // equal when nothing changed, so unchanged types are not emitted again.
            var types = methods
                .Collect()
                .WithTrackingName(TrackingNames.CollectedRemoteMethods)
                .Combine(assemblyName)
                .WithTrackingName(TrackingNames.CollectedRemoteMethodsWithAssemblyName)
                .SelectMany(static (input, cancellationToken) => Parser.GroupByContainingType(input.Left, input.Right, cancellationToken))
                .WithTrackingName(TrackingNames.RemoteTypes);

            context.RegisterSourceOutput(types, Emitter.Emit);

            // One file per actor class; an actor's spec holds everything its file needs, so it needs no grouping.
            var actors = targets
                .SelectMany(static (target, _) => target.Actor is { } actor
                    ? ImmutableArray.Create(actor)
                    : ImmutableArray<ActorSpec>.Empty)
                .WithTrackingName(TrackingNames.RemoteActors)
                .Combine(assemblyName)
                .WithTrackingName(TrackingNames.RemoteActorsWithAssemblyName);

            context.RegisterSourceOutput(actors, Emitter.EmitActor);

            var diagnostics = targets
                .Select(static (target, _) => target.Diagnostics)
                .WithTrackingName(TrackingNames.RemoteTargetDiagnostics)
                .Collect()
                .WithTrackingName(TrackingNames.CollectedDiagnostics)
                .Select(static (all, _) => Parser.Distinct(all))
                .WithTrackingName(TrackingNames.Diagnostics);

            context.RegisterSourceOutput(diagnostics, Emitter.Report);
        }
    }
}
