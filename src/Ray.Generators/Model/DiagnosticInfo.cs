using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>
    /// A diagnostic in equatable form. A <see cref="Diagnostic"/> or <see cref="Location"/> would keep the
    /// syntax tree (and with it the compilation) alive and would never compare equal across runs, so the
    /// pipeline carries this instead and turns it into a diagnostic only when it reports it.
    /// </summary>
    /// <param name="Descriptor">The rule.</param>
    /// <param name="Location">Where it applies, if anywhere.</param>
    /// <param name="MessageArgs">The arguments of the rule's message format.</param>
    internal sealed record DiagnosticInfo(
        DiagnosticDescriptor Descriptor,
        LocationInfo? Location,
        ImmutableEquatableArray<string> MessageArgs)
    {
        /// <summary>Creates a diagnostic at <paramref name="location"/>.</summary>
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] messageArgs)
            => new DiagnosticInfo(descriptor, LocationInfo.From(location), messageArgs.ToImmutableEquatableArray());

        /// <summary>The diagnostic to report.</summary>
        public Diagnostic ToDiagnostic()
            => Diagnostic.Create(Descriptor, Location?.ToLocation(), MessageArgs.Cast<object>().ToArray());
    }

    /// <summary>A source location as plain values: file path, text span and line span.</summary>
    /// <param name="FilePath">The path of the syntax tree.</param>
    /// <param name="TextSpan">The span in the file's text.</param>
    /// <param name="LineSpan">The same span as lines and columns.</param>
    internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
    {
        /// <summary>Captures <paramref name="location"/>, or returns null when it is not in source.</summary>
        public static LocationInfo? From(Location? location)
            => location is null || location.SourceTree is null
                ? null
                : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

        /// <summary>The location to report a diagnostic at.</summary>
        public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);
    }
}
