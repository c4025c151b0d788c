using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ray.Generators.CodeFixes
{
    /// <summary>Edits of type declarations that the fixes share.</summary>
    internal static class TypeDeclarations
    {
        /// <summary><paramref name="declaration"/> and every type declaration around it.</summary>
        public static IEnumerable<TypeDeclarationSyntax> SelfAndContainers(TypeDeclarationSyntax declaration)
            => declaration.AncestorsAndSelf().OfType<TypeDeclarationSyntax>();

        /// <summary>
        /// Adds <c>partial</c> as the last modifier, where C# requires it (right before <c>class</c>, <c>struct</c>,
        /// <c>record</c> or <c>interface</c>, after <c>ref</c>), keeping the declaration's comments and indentation.
        /// </summary>
        public static TypeDeclarationSyntax WithPartial(TypeDeclarationSyntax declaration)
        {
            if (declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return declaration;
            }

            if (declaration.Modifiers.Count == 0)
            {
                // The keyword carries the declaration's leading trivia (indentation, doc comment) when nothing precedes it.
                var keyword = declaration.Keyword;
                var partial = SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
                return declaration
                    .WithKeyword(keyword.WithLeadingTrivia(SyntaxTriviaList.Empty))
                    .WithModifiers(SyntaxFactory.TokenList(partial));
            }

            return declaration.WithModifiers(declaration.Modifiers.Add(
                SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));
        }

        /// <summary>Puts <paramref name="attribute"/> on its own line above <paramref name="declaration"/>, below its doc comment.</summary>
        public static TypeDeclarationSyntax WithAttributeFirst(TypeDeclarationSyntax declaration, AttributeSyntax attribute, string endOfLine)
        {
            var leading = declaration.GetLeadingTrivia();
            var indentation = SyntaxFactory.TriviaList(leading.Reverse().TakeWhile(trivia => trivia.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse());
            var list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(attribute))
                .WithLeadingTrivia(leading)
                .WithTrailingTrivia(SyntaxFactory.EndOfLine(endOfLine));
            return declaration
                .WithLeadingTrivia(indentation)
                .WithAttributeLists(declaration.WithLeadingTrivia(indentation).AttributeLists.Insert(0, list));
        }

        /// <summary>The line ending the file uses, so inserted lines match it.</summary>
        public static string EndOfLine(SyntaxNode root)
            => root.DescendantTrivia().FirstOrDefault(trivia => trivia.IsKind(SyntaxKind.EndOfLineTrivia)).ToString() is { Length: > 0 } eol
                ? eol
                : "\n";
    }
}
