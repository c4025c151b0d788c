using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ray.Generators.Analyzers;

/// <summary>
/// Silences CS4014 ("this call is not awaited") for remote calls. An <c>ObjectRef</c> is awaitable, so the
/// compiler flags <c>counter.Inc();</c> in an async method, but the call is submitted either way: ignoring the
/// reference is Ray's fire-and-forget, not a forgotten await.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FireAndForgetSuppressor : DiagnosticSuppressor
{
    private static readonly SuppressionDescriptor Rule = new(
        id: "RAYSP0001",
        suppressedDiagnosticId: "CS4014",
        justification: "A remote call is submitted whether or not its ObjectRef is awaited; ignoring the reference is fire and forget.");

    /// <inheritdoc/>
    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions { get; } = ImmutableArray.Create(Rule);

    /// <inheritdoc/>
    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            var tree = diagnostic.Location.SourceTree;
            if (tree is null)
            {
                continue;
            }

            var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var expression = node as ExpressionSyntax ?? (node as ExpressionStatementSyntax)?.Expression;
            if (expression is null)
            {
                continue;
            }

            var type = context.GetSemanticModel(tree).GetTypeInfo(expression, context.CancellationToken).Type;
            if (type is INamedTypeSymbol { Name: "ObjectRef", ContainingNamespace: { Name: "Ray", ContainingNamespace.IsGlobalNamespace: true } })
            {
                context.ReportSuppression(Suppression.Create(Rule, diagnostic));
            }
        }
    }
}
