using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Ray.Analyzers.Tests.Infrastructure;

/// <summary>
/// Applies a code fix the way the IDE does, without the IDE: the sources go into an <see cref="AdhocWorkspace"/>,
/// the generator and analyzers report their diagnostics, the provider registers its actions for one of them,
/// and the action's changes are applied to the solution.
/// </summary>
internal static class CodeFixRunner
{
    /// <summary>The result of a fix: every source after it, by file name.</summary>
    /// <param name="Sources">The text of each source, <c>Source0.cs</c> first.</param>
    /// <param name="Title">The title the fix shows in the IDE.</param>
    internal sealed record FixResult(IReadOnlyList<string> Sources, string Title);

    /// <summary>
    /// Fixes the diagnostic with <paramref name="id"/> at index <paramref name="index"/> (in source order) with
    /// <paramref name="provider"/>, which must offer exactly one action for it.
    /// </summary>
    public static async Task<FixResult> FixAsync(CodeFixProvider provider, string id, string[] sources, int index = 0)
    {
        var (workspace, solution, documents) = CreateSolution(sources);
        using (workspace)
        {
            var (document, diagnostic) = await FindAsync(solution, documents, id, index);
            var actions = await RegisterAsync(provider, document, diagnostic);
            var action = Assert.Single(actions);
            var operation = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
            var changed = operation.ChangedSolution;
            var texts = new List<string>();
            foreach (var documentId in documents)
            {
                texts.Add((await changed.GetDocument(documentId)!.GetTextAsync()).ToString());
            }

            return new FixResult(texts, action.Title);
        }
    }

    /// <summary>The actions <paramref name="provider"/> offers for the diagnostic with <paramref name="id"/> at <paramref name="index"/>.</summary>
    public static async Task<ImmutableArray<CodeAction>> OfferedAsync(CodeFixProvider provider, string id, string[] sources, int index = 0)
    {
        var (workspace, solution, documents) = CreateSolution(sources);
        using (workspace)
        {
            var (document, diagnostic) = await FindAsync(solution, documents, id, index);
            return await RegisterAsync(provider, document, diagnostic);
        }
    }

    private static (AdhocWorkspace Workspace, Solution Solution, List<DocumentId> Documents) CreateSolution(string[] sources)
    {
        var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var solution = workspace.CurrentSolution.AddProject(ProjectInfo.Create(
            projectId,
            VersionStamp.Create(),
            "TestProject",
            "TestAssembly",
            LanguageNames.CSharp,
            compilationOptions: TestCompilation.Create().Options,
            parseOptions: TestCompilation.ParseOptions,
            metadataReferences: TestCompilation.References));
        var documents = new List<DocumentId>();
        for (var i = 0; i < sources.Length; i++)
        {
            var documentId = DocumentId.CreateNewId(projectId);
            solution = solution.AddDocument(documentId, $"Source{i}.cs", sources[i], filePath: $"Source{i}.cs");
            documents.Add(documentId);
        }

        solution = solution.AddDocument(DocumentId.CreateNewId(projectId), "GlobalUsings.cs", TestCompilation.GlobalUsings, filePath: "GlobalUsings.cs");
        return (workspace, solution, documents);
    }

    private static async Task<(Document Document, Diagnostic Diagnostic)> FindAsync(Solution solution, List<DocumentId> documents, string id, int index)
    {
        var project = solution.Projects.Single();
        var compilation = (CSharpCompilation)(await project.GetCompilationAsync())!;
        var run = AnalyzerRun.Of(compilation);
        var matching = run.RayDiagnostics.Where(diagnostic => diagnostic.Id == id).ToList();
        Assert.True(matching.Count > index, $"Expected at least {index + 1} {id}, got:\n" + AnalyzerRun.Format(run.RayDiagnostics));
        var diagnostic = matching[index];

        // The generator reports at a file path and span (it cannot keep the tree); the IDE maps the path to the document.
        var path = diagnostic.Location.GetLineSpan().Path;
        var document = documents.Select(solution.GetDocument).Single(document => document!.FilePath == path)!;
        return (document, diagnostic);
    }

    private static async Task<ImmutableArray<CodeAction>> RegisterAsync(CodeFixProvider provider, Document document, Diagnostic diagnostic)
    {
        Assert.Contains(diagnostic.Id, provider.FixableDiagnosticIds);
        var actions = ImmutableArray.CreateBuilder<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await provider.RegisterCodeFixesAsync(context);
        return actions.ToImmutable();
    }
}
