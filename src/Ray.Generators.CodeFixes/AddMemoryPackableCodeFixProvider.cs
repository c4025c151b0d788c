using System;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ray.Generators.CodeFixes
{
    /// <summary>
    /// RAY0001: marks the user type that cannot be serialized with <c>[MemoryPackable]</c> and makes it (and the
    /// types around it) partial, so MemoryPack's generator writes its formatter. Offered only when the type is a
    /// class, struct or record in this solution's source, which the diagnostic says in a property and points at
    /// with its additional locations.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddMemoryPackableCodeFixProvider))]
    [Shared]
    public sealed class AddMemoryPackableCodeFixProvider : CodeFixProvider
    {
        private const string MemoryPackNamespace = "MemoryPack";
        private const string AttributeMetadataName = "MemoryPack.MemoryPackableAttribute";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.NotSerializable);

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            foreach (var diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.ContainsKey(DiagnosticIds.OffendingTypeInSourceProperty)
                    || diagnostic.AdditionalLocations.FirstOrDefault(location => location.IsInSource) is not { SourceTree: { } tree } typeLocation
                    || context.Document.Project.Solution.GetDocument(tree) is not { } typeDocument)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Make '{typeLocation.SourceTree.GetText(context.CancellationToken).ToString(typeLocation.SourceSpan)}' [MemoryPackable] and partial",
                        cancellationToken => FixAsync(typeDocument, typeLocation, cancellationToken),
                        equivalenceKey: nameof(AddMemoryPackableCodeFixProvider)),
                    diagnostic);
            }

            return Task.CompletedTask;
        }

        private static async Task<Solution> FixAsync(Document document, Location typeLocation, CancellationToken cancellationToken)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
            if (root is not CompilationUnitSyntax compilationUnit
                || model is null
                || root.FindToken(typeLocation.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().FirstOrDefault() is not { } declaration)
            {
                return document.Project.Solution;
            }

            var needsUsing = !IsMemoryPackableInScope(model, declaration.SpanStart);
            var endOfLine = TypeDeclarations.EndOfLine(root);
            var attribute = SyntaxFactory.Attribute(SyntaxFactory.IdentifierName("MemoryPackable"));
            var edited = compilationUnit.ReplaceNodes(
                TypeDeclarations.SelfAndContainers(declaration),
                (original, rewritten) => original == declaration
                    ? TypeDeclarations.WithAttributeFirst(TypeDeclarations.WithPartial(rewritten), attribute, endOfLine)
                    : TypeDeclarations.WithPartial(rewritten));
            if (needsUsing)
            {
                edited = AddUsing(edited, endOfLine);
            }

            return document.WithSyntaxRoot(edited).Project.Solution;
        }

        private static bool IsMemoryPackableInScope(SemanticModel model, int position)
            => model.LookupNamespacesAndTypes(position, name: "MemoryPackableAttribute")
                .Any(symbol => symbol is INamedTypeSymbol type && type.ToDisplayString() == AttributeMetadataName);

        /// <summary>Adds <c>using MemoryPack;</c> among the file's usings, in order, System ones first.</summary>
        private static CompilationUnitSyntax AddUsing(CompilationUnitSyntax root, string endOfLine)
        {
            var directive = SyntaxFactory.UsingDirective(SyntaxFactory.IdentifierName(MemoryPackNamespace))
                .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space))
                .WithTrailingTrivia(SyntaxFactory.EndOfLine(endOfLine));
            var usings = root.Usings;
            if (usings.Count == 0)
            {
                // The file's header (comments, #nullable) stays on top; a blank line separates the using from the code.
                var firstToken = root.GetFirstToken(includeZeroWidth: true);
                return root
                    .ReplaceToken(firstToken, firstToken.WithLeadingTrivia(SyntaxFactory.EndOfLine(endOfLine)))
                    .WithUsings(SyntaxFactory.SingletonList(directive.WithLeadingTrivia(firstToken.LeadingTrivia)));
            }

            var index = 0;
            while (index < usings.Count && Compare(usings[index], MemoryPackNamespace) < 0)
            {
                index++;
            }

            if (index == 0)
            {
                // Take over the first using's leading trivia (file header), so it stays above.
                var first = usings[0];
                return root.WithUsings(usings
                    .Replace(first, first.WithLeadingTrivia(SyntaxTriviaList.Empty))
                    .Insert(0, directive.WithLeadingTrivia(first.GetLeadingTrivia())));
            }

            return root.WithUsings(usings.Insert(index, directive));
        }

        private static int Compare(UsingDirectiveSyntax existing, string name)
        {
            if (existing.Alias is not null || !existing.StaticKeyword.IsKind(SyntaxKind.None) || existing.GlobalKeyword.IsKind(SyntaxKind.GlobalKeyword))
            {
                // Global usings come first and aliases and static usings come last by convention.
                return existing.GlobalKeyword.IsKind(SyntaxKind.GlobalKeyword) ? -1 : 1;
            }

            var existingName = existing.Name?.ToString() ?? string.Empty;
            var existingIsSystem = existingName == "System" || existingName.StartsWith("System.", StringComparison.Ordinal);
            return existingIsSystem ? -1 : string.CompareOrdinal(existingName, name);
        }
    }
}
