using Microsoft.CodeAnalysis.Text;

namespace Ray.Tests.Shared;

/// <summary>Test sources that mark the span a diagnostic must point at with <c>[|</c> and <c>|]</c>.</summary>
internal static class Markup
{
    /// <summary>Removes the markers and returns the source with the marked span.</summary>
    public static (string Source, TextSpan Span) Parse(string markup)
    {
        var start = markup.IndexOf("[|", StringComparison.Ordinal);
        var end = markup.IndexOf("|]", StringComparison.Ordinal);
        if (start < 0 || end < start || markup.IndexOf("[|", start + 2, StringComparison.Ordinal) >= 0)
        {
            throw new ArgumentException("The markup must contain exactly one [| ... |] span.", nameof(markup));
        }

        var source = markup.Remove(end, 2).Remove(start, 2);
        return (source, TextSpan.FromBounds(start, end - 2));
    }
}
