using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Ray.Generators.Model;

namespace Ray.Generators
{
    /// <summary>
    /// The parser's check of where a <c>[Remote]</c> value is written: <c>RemoteAttribute</c> serves tasks and actors
    /// alike, so it compiles with a value that the kind it marks never reads, which would otherwise do nothing, silently.
    /// </summary>
    internal static partial class Parser
    {
        // The values only a task reads, with what to do on an actor instead.
        private static readonly Dictionary<string, string> TaskOnlyOptions = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["NumGpus"] = "an actor cannot reserve GPUs; do the GPU work in a [Remote] static method, which can",
            ["MaxRetries"] = "to retry an actor's calls after it restarts, set MaxTaskRetries (with MaxRestarts) instead",
            ["RetryExceptions"] = "an actor's call that throws is not retried; catch the exception in the method to retry there",
        };

        // The values only an actor reads, with what to do on a task instead.
        private static readonly Dictionary<string, string> ActorOnlyOptions = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MaxRestarts"] = "a task is not restarted but retried when its worker dies; set MaxRetries instead",
            ["MaxTaskRetries"] = "set MaxRetries instead, which says how many times a task is retried",
            ["MaxConcurrency"] = "tasks run in parallel as far as their NumCpus and NumGpus fit on the node; to run fewer at once, raise NumCpus",
            ["DedicatedProcess"] = "a task runs on any worker of the node's pool; remove it, or make the code an actor class, which can ask for a process of its own",
        };

        /// <summary>RAY0015: the task-only values on an actor class's <c>[Remote]</c>, and the streaming ones, which its methods set.</summary>
        private static void CheckActorClassOptions(AttributeData attribute, INamedTypeSymbol type, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
            => ReportUnusedOptions(
                attribute,
                DiagnosticDescriptors.OptionUnusedByActor,
                name => TaskOnlyOptions.TryGetValue(name, out var advice)
                    ? new[] { name, $"actor class '{Readable(type)}'", "it applies to tasks ([Remote] static methods) only", advice }
                    : StreamingOptions.TryGetValue(name, out var methodAdvice)
                        ? new[] { name, $"actor class '{Readable(type)}'", "it applies to streaming methods, not to a class", methodAdvice }
                        : null,
                diagnostics,
                cancellationToken);

        /// <summary>
        /// RAY0015: any value on the <c>[Remote]</c> of an actor's method, which only the class's <c>[Remote]</c> sets, but
        /// for the streaming ones (RAY0017 checks those).
        /// </summary>
        private static void CheckActorMethodOptions(AttributeData attribute, IMethodSymbol method, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
            => ReportUnusedOptions(
                attribute,
                DiagnosticDescriptors.OptionUnusedByActor,
                name => StreamingOptions.ContainsKey(name) ? null : new[]
                {
                    name,
                    $"actor method '{ReadableName(method)}'",
                    $"an actor's calls run inside the actor, with what the [Remote] on its class '{Readable(method.ContainingType)}' sets",
                    TaskOnlyOptions.TryGetValue(name, out var advice) ? advice : "set it on the class instead",
                },
                diagnostics,
                cancellationToken);

        /// <summary>RAY0016: the actor-only values on a task's <c>[Remote]</c>.</summary>
        private static void CheckTaskOptions(AttributeData attribute, IMethodSymbol method, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
            => ReportUnusedOptions(
                attribute,
                DiagnosticDescriptors.OptionUnusedByTask,
                name => ActorOnlyOptions.TryGetValue(name, out var advice) ? new[] { name, ReadableName(method), advice } : null,
                diagnostics,
                cancellationToken);

        /// <summary>Reports <paramref name="descriptor"/> at each value of <paramref name="attribute"/> that <paramref name="messageArgs"/> gives arguments for.</summary>
        private static void ReportUnusedOptions(
            AttributeData attribute,
            DiagnosticDescriptor descriptor,
            Func<string, string[]?> messageArgs,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (messageArgs(argument.Key) is { } args)
                {
                    diagnostics.Add(DiagnosticInfo.Create(descriptor, NamedArgumentLocation(attribute, argument.Key, cancellationToken), args));
                }
            }
        }

        /// <summary>Where <c>Name = value</c> is written in the attribute, or the attribute when that cannot be found.</summary>
        private static Location? NamedArgumentLocation(AttributeData attribute, string name, CancellationToken cancellationToken)
        {
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
            if (syntax is AttributeSyntax { ArgumentList: { } arguments })
            {
                foreach (var argument in arguments.Arguments)
                {
                    if (argument.NameEquals?.Name.Identifier.ValueText == name)
                    {
                        return argument.GetLocation();
                    }
                }
            }

            return syntax?.GetLocation();
        }
    }
}
