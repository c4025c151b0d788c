using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ray.Generators.CodeFixes
{
    /// <summary>
    /// RAY0011: replaces a blocking <c>reference.Get()</c> or <c>reference.Wait()</c> with <c>await reference</c>, and
    /// <c>ray.Get(references)</c> with <c>await ray.GetAsync(references)</c>.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseAwaitCodeFixProvider))]
    [Shared]
    public sealed class UseAwaitCodeFixProvider : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.BlockingGetInAsync);

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            foreach (var diagnostic in context.Diagnostics)
            {
                // The analyzer gives no form for a wait with a timeout, which no 'await' keeps; 'await' is not allowed in a lock.
                if (!diagnostic.Properties.TryGetValue(DiagnosticIds.AwaitFormProperty, out var form)
                    || root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax
                    {
                        Expression: MemberAccessExpressionSyntax access,
                    } invocation
                    || IsInLock(invocation))
                {
                    continue;
                }

                ExpressionSyntax awaited = form == DiagnosticIds.AwaitGetAsync
                    ? invocation.WithExpression(access.WithName(SyntaxFactory.IdentifierName("GetAsync")))
                    : access.Expression;
                var document = context.Document;
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Use 'await {awaited.WithoutTrivia()}'",
                        _ => Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(invocation, Await(invocation, awaited)))),
                        equivalenceKey: nameof(UseAwaitCodeFixProvider)),
                    diagnostic);
            }
        }

        private static ExpressionSyntax Await(InvocationExpressionSyntax invocation, ExpressionSyntax reference)
        {
            ExpressionSyntax replacement = SyntaxFactory.AwaitExpression(
                SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithTrailingTrivia(SyntaxFactory.Space),
                reference.WithoutTrivia());

            // 'await x' binds looser than member access, indexing, calls and postfix operators: 'x.Get().M()' becomes '(await x).M()'.
            if (invocation.Parent is MemberAccessExpressionSyntax or ConditionalAccessExpressionSyntax or ElementAccessExpressionSyntax
                or InvocationExpressionSyntax or PostfixUnaryExpressionSyntax)
            {
                replacement = SyntaxFactory.ParenthesizedExpression(replacement);
            }

            return replacement.WithTriviaFrom(invocation);
        }

        private static bool IsInLock(SyntaxNode node)
            => node.Ancestors()
                .TakeWhile(ancestor => ancestor is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or MemberDeclarationSyntax))
                .Any(ancestor => ancestor is LockStatementSyntax);
    }
}
