using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Ray.Analyzers.Tests.Infrastructure;
using Ray.Generators;
using Ray.Generators.Analyzers;
using Ray.Generators.CodeFixes;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>
/// Every rule, the generator's and the analyzers', has a stable id, a title, a help link to its page, a page
/// with a wrong and a right example, a line in the docs index, and a line in the release tracking files; the
/// code fixes handle the ids they were written for.
/// </summary>
public sealed class RuleCatalogTests
{
    public static TheoryData<string> RuleIds => new(AllRules().Select(rule => rule.Id));

    /// <summary>The descriptors of the generator and of the analyzers, from their public static fields.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> AllRules()
        => new[] { typeof(DiagnosticDescriptors), typeof(AnalyzerDescriptors) }
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(field => field.FieldType == typeof(DiagnosticDescriptor))
            .Select(field => (DiagnosticDescriptor)field.GetValue(null)!)
            .OrderBy(rule => rule.Id, StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void IdsAreUniqueAndWellFormed()
    {
        var ids = AllRules().Select(rule => rule.Id).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.All(ids, id => Assert.Matches("^RAY[0-9]{4}$", id));
        Assert.Contains("RAY0001", ids);
        Assert.Contains("RAY0013", ids);
        Assert.Contains("RAY0014", ids);
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void RuleHasTitleHelpLinkAndPage(string id)
    {
        var rule = AllRules().Single(rule => rule.Id == id);
        Assert.False(string.IsNullOrWhiteSpace(rule.Title.ToString()));
        Assert.Equal("RayGen", rule.Category);
        Assert.True(rule.IsEnabledByDefault);
        var page = File.ReadAllText(RepositoryPaths.Combine(PageOf(rule)));
        Assert.StartsWith($"# {id}: ", page, StringComparison.Ordinal);
        Assert.Contains("## What it means", page, StringComparison.Ordinal);
        Assert.Contains("## Wrong", page, StringComparison.Ordinal);
        Assert.Contains("## Right", page, StringComparison.Ordinal);
        Assert.Contains("## How to fix", page, StringComparison.Ordinal);
        Assert.Contains($"| Severity | {rule.DefaultSeverity} |", page, StringComparison.Ordinal);

        var index = File.ReadAllText(RepositoryPaths.Combine("docs/diagnostics/README.md"));
        Assert.Contains($"| [{id}]({id}.md) | {rule.DefaultSeverity} |", index, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every help link is the address of a file in the repository's main branch, and that file is the rule's page in
    /// <c>docs/diagnostics</c>, which exists (and which the package carries, see PackageTests).
    /// </summary>
    [Fact]
    public void EveryHelpLinkIsAPageThatExists()
    {
        Assert.All(AllRules(), rule =>
        {
            var page = PageOf(rule);
            Assert.Equal($"docs/diagnostics/{rule.Id}.md", page);
            Assert.True(File.Exists(RepositoryPaths.Combine(page)), $"{rule.Id}'s help link {rule.HelpLinkUri} points at '{page}', which does not exist.");
        });
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void RuleIsTrackedInAReleaseFile(string id)
    {
        var rule = AllRules().Single(rule => rule.Id == id);
        var releases = File.ReadAllText(RepositoryPaths.Combine("src/Ray.Generators/AnalyzerReleases.Shipped.md"))
                       + File.ReadAllText(RepositoryPaths.Combine("src/Ray.Generators/AnalyzerReleases.Unshipped.md"));
        Assert.Matches(new Regex($@"^{id} \| RayGen \| {rule.DefaultSeverity} \|", RegexOptions.Multiline), releases);
    }

    /// <summary>The file in the repository that <paramref name="rule"/>'s help link is the address of.</summary>
    private static string PageOf(DiagnosticDescriptor rule)
    {
        var prefix = HelpLinks.RepositoryUrl + "/blob/main/";
        Assert.StartsWith(prefix, rule.HelpLinkUri, StringComparison.Ordinal);
        return rule.HelpLinkUri[prefix.Length..];
    }

    [Fact]
    public void CodeFixesHandleTheRulesTheyWereWrittenFor()
    {
        Assert.Equal(DiagnosticDescriptors.TypeNotPartial.Id, Assert.Single(new AddPartialCodeFixProvider().FixableDiagnosticIds));
        Assert.Equal(AnalyzerDescriptors.NotSerializable.Id, Assert.Single(new AddMemoryPackableCodeFixProvider().FixableDiagnosticIds));
        Assert.Equal(AnalyzerDescriptors.BlockingGetInAsync.Id, Assert.Single(new UseAwaitCodeFixProvider().FixableDiagnosticIds));

        // The fixes' assembly cannot reference the analyzers' (see DiagnosticIds), so the property key is repeated there.
        var ids = typeof(AddPartialCodeFixProvider).Assembly.GetType("Ray.Generators.CodeFixes.DiagnosticIds", throwOnError: true)!;
        Assert.Equal(SerializationAnalyzer.SourceTypeProperty, ids.GetField("OffendingTypeInSourceProperty")!.GetRawConstantValue());
        Assert.Equal(RemoteCallAnalyzer.AwaitFormProperty, ids.GetField("AwaitFormProperty")!.GetRawConstantValue());
        Assert.Equal(RemoteCallAnalyzer.AwaitReference, ids.GetField("AwaitReference")!.GetRawConstantValue());
        Assert.Equal(RemoteCallAnalyzer.AwaitGetAsync, ids.GetField("AwaitGetAsync")!.GetRawConstantValue());
    }

    [Fact]
    public void AnalyzersDeclareEveryRuleTheyReport()
    {
        var declared = AnalyzerRun.Analyzers.SelectMany(analyzer => analyzer.SupportedDiagnostics).Select(rule => rule.Id).Order().ToList();
        var defined = typeof(AnalyzerDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => ((DiagnosticDescriptor)field.GetValue(null)!).Id).Order().ToList();
        Assert.Equal(defined, declared);
    }
}
