using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Ray.Generators.Model;

namespace Ray.Generators
{
    /// <summary>
    /// The parser's part for streaming generators: a task or actor method returning <c>IAsyncEnumerable&lt;T&gt;</c>, or
    /// <c>IEnumerable&lt;T&gt;</c> with <c>[Remote(Streaming = true)]</c>, whose items stream to the caller as an
    /// <c>ObjectRefStream&lt;T&gt;</c>; and RAY0017 for the streaming values of <c>[Remote]</c> where they cannot apply.
    /// </summary>
    internal static partial class Parser
    {
        private const string StreamingOption = "Streaming";
        private const string BackpressureOption = "GeneratorBackpressureNumObjects";

        /// <summary>The values of <c>[Remote]</c> that only a streaming method reads, with what to do on an actor class instead.</summary>
        private static readonly Dictionary<string, string> StreamingOptions = new Dictionary<string, string>(System.StringComparer.Ordinal)
        {
            [StreamingOption] = "set it on the [Remote] of the actor's method that returns IEnumerable<T>",
            [BackpressureOption] = "set it on the [Remote] of the actor's streaming method",
        };

        /// <summary>Whether <paramref name="attribute"/> sets <c>Streaming = true</c>.</summary>
        private static bool SetsStreaming(AttributeData? attribute)
            => attribute is not null && attribute.NamedArguments.Any(argument => argument.Key == StreamingOption && argument.Value.Value is true);

        /// <summary>The <c>GeneratorBackpressureNumObjects</c> that <paramref name="attribute"/> sets, or null.</summary>
        private static int? BackpressureSet(AttributeData? attribute)
            => attribute?.NamedArguments.FirstOrDefault(argument => argument.Key == BackpressureOption).Value.Value as int?;

        /// <summary>The <c>[Remote]</c> on <paramref name="method"/> itself, or null.</summary>
        private static AttributeData? RemoteAttributeOf(IMethodSymbol method, INamedTypeSymbol remoteAttribute)
            => method.GetAttributes().FirstOrDefault(data => SymbolEqualityComparer.Default.Equals(data.AttributeClass, remoteAttribute));

        /// <summary>
        /// RAY0017: <c>Streaming = true</c> on a method whose result is not an <c>IEnumerable&lt;T&gt;</c> or
        /// <c>IAsyncEnumerable&lt;T&gt;</c>; <c>GeneratorBackpressureNumObjects</c> on a method that does not stream, or
        /// out of range. <paramref name="member"/> names the method in messages.
        /// </summary>
        private static void CheckStreamingOptions(
            AttributeData attribute,
            IMethodSymbol method,
            string member,
            KnownTypeSymbols known,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var streams = known.StreamItemType(method.ReturnType, SetsStreaming(attribute)) is not null;
            foreach (var argument in attribute.NamedArguments)
            {
                var location = NamedArgumentLocation(attribute, argument.Key, cancellationToken);
                if (argument.Key == StreamingOption && argument.Value.Value is true && !streams)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.StreamingOptionCannotApply,
                        location,
                        StreamingOption,
                        member,
                        $"cannot apply: its result '{Readable(method.ReturnType)}' is not an IEnumerable<T> or IAsyncEnumerable<T>",
                        "return one of them to stream its items, or remove Streaming"));
                }
                else if (argument.Key == BackpressureOption && argument.Value.Value is int value)
                {
                    if (!streams)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.StreamingOptionCannotApply,
                            location,
                            BackpressureOption,
                            member,
                            "has no effect: the method returns one value, not a stream of items",
                            "return IAsyncEnumerable<T> (or IEnumerable<T> with Streaming = true) to stream its items, or remove it"));
                    }
                    else if (value == 0 || value < -1)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.StreamingOptionCannotApply,
                            location,
                            $"{BackpressureOption} = {value.ToString(CultureInfo.InvariantCulture)}",
                            member,
                            "is out of range: it is how many of the producer's items may wait to be read before it pauses",
                            "use 1 or more, or -1 for no limit"));
                    }
                }
            }
        }
    }
}
