using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ray.Generators.Analyzers
{
    /// <summary>
    /// RAY0001: every parameter and result of a <c>[Remote]</c> static method, an actor constructor and a public
    /// actor method crosses a process boundary, so MemoryPack must be able to serialize it; so must every value
    /// stored with <c>ray.Put</c> and read with <c>Get</c>, <c>GetAsync</c>, <c>await</c> or a stream's <c>ReadAllAsync</c>
    /// where its type is known. A streaming method's items cross one by one, so for an <c>IAsyncEnumerable&lt;T&gt;</c>
    /// result it is <c>T</c> that must be serializable.
    /// Ray finds out when the task runs, often on another machine; this analyzer finds out when the code compiles.
    /// RAY0014: an <c>ArrayView&lt;T&gt;</c> crosses nothing, so it may only be a non-nullable parameter, which the
    /// runtime opens on the array the caller passed; anywhere else in a parameter or result it is an error.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class SerializationAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>The key of the property that says the offending type is declared in source, so a code fix can mark it.</summary>
        public const string SourceTypeProperty = "RayGen.OffendingTypeInSource";

        private static readonly SymbolDisplayFormat ReadableFormat = new(
            globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

        private static readonly ImmutableDictionary<string, string?> SourceTypeProperties =
            ImmutableDictionary<string, string?>.Empty.Add(SourceTypeProperty, "true");

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(AnalyzerDescriptors.NotSerializable, AnalyzerDescriptors.ArrayViewOutsideParameter);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                if (RaySymbols.Create(start.Compilation) is not { } symbols)
                {
                    return;
                }

                var checker = new SerializabilityChecker(symbols);
                start.RegisterSymbolAction(symbolContext => AnalyzeMethod(symbolContext, symbols, checker), SymbolKind.Method);
                start.RegisterOperationAction(
                    operationContext => AnalyzeObjectAccess(operationContext, symbols, checker),
                    OperationKind.Invocation,
                    OperationKind.Await);
            });
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context, RaySymbols symbols, SerializabilityChecker checker)
        {
            var method = (IMethodSymbol)context.Symbol;
            if (Describe(method, symbols) is not { } member)
            {
                return;
            }

            foreach (var parameter in method.Parameters)
            {
                if (parameter.RefKind != RefKind.None || symbols.Is(parameter.Type, symbols.CancellationToken) || ReportedByGenerator(parameter.Type))
                {
                    continue;
                }

                var location = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(context.CancellationToken).GetLocation()
                    ?? parameter.Locations.FirstOrDefault();
                var subject = $"Parameter '{parameter.Name}'";
                if (symbols.IsDefinition(parameter.Type, symbols.ArrayView))
                {
                    // Where a view belongs: the runtime opens it on the array the caller passed, for the length of the call.
                    CheckViewParameter(context, location, subject, member, parameter);
                }
                else if (checker.FindArrayView(parameter.Type) is { } view)
                {
                    var array = ArrayOf(view);
                    ReportArrayView(
                        context,
                        location,
                        subject,
                        member,
                        $"{DescribeHolder(parameter.Type, view)}, but a view is valid only inside the call that received it",
                        $"pass the arrays themselves ('{array}') or their ObjectRef<{array}> instead; only a parameter of type '{Readable(view)}' receives a view");
                }
                else if (checker.FindOffender(parameter.Type) is { } offender)
                {
                    Report(context.ReportDiagnostic, location, subject, member, parameter.Type, offender);
                }
            }

            if (method.MethodKind == MethodKind.Constructor || method.ReturnsVoid || method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                return;
            }

            var result = method.ReturnType;
            if (symbols.Is(result, symbols.Task) || symbols.Is(result, symbols.ValueTask))
            {
                return;
            }

            // A task's awaited value crosses, and each item of a streaming method's IAsyncEnumerable<T> (an IEnumerable<T>
            // marked Streaming is checked whole, which checks its items too).
            var unwrapped = symbols.IsDefinition(result, symbols.TaskOfT) || symbols.IsDefinition(result, symbols.ValueTaskOfT) ||
                            symbols.IsDefinition(result, symbols.AsyncEnumerableOfT);
            if (unwrapped)
            {
                result = ((INamedTypeSymbol)result).TypeArguments[0];
            }
            else if (ReportedByGenerator(result))
            {
                return;
            }

            if (checker.FindArrayView(result) is { } resultView)
            {
                var array = ArrayOf(resultView);
                ReportArrayView(
                    context,
                    ResultLocation(method, unwrapped, context.CancellationToken),
                    "The result",
                    member,
                    $"{DescribeHolder(result, resultView)}, but a view is valid only inside the call that received it",
                    SymbolEqualityComparer.Default.Equals(result, resultView)
                        ? $"return '{array}' instead, which the caller can read without a copy through GetView() on the ObjectRef<{array}> it receives"
                        : $"return the arrays themselves ('{array}') instead");
            }
            else if (checker.FindOffender(result) is { } resultOffender)
            {
                Report(context.ReportDiagnostic, ResultLocation(method, unwrapped, context.CancellationToken), "The result", member, result, resultOffender);
            }
        }

        /// <summary>
        /// RAY0001 where a value goes into the object store or comes out of it with its type known at the call:
        /// <c>ray.Put(value)</c>, <c>ray.Get(references)</c> and <c>ray.GetAsync(references)</c>, and <c>Get</c>,
        /// <c>GetAsync</c> or <c>await</c> on an <c>ObjectRef&lt;T&gt;</c>, and <c>ReadAllAsync</c> on an <c>ObjectRefStream&lt;T&gt;</c>.
    /// MemoryPack writes or reads a <c>T</c> there,
        /// which a generic helper (<c>ObjectRef&lt;T&gt; Store&lt;T&gt;(T value) =&gt; ray.Put(value)</c>) hides from the
        /// check of the call that stores it.
        /// </summary>
        private static void AnalyzeObjectAccess(OperationAnalysisContext context, RaySymbols symbols, SerializabilityChecker checker)
        {
            ITypeSymbol type;
            var subject = "The result";
            string member;
            var location = context.Operation.Syntax.GetLocation();
            switch (context.Operation)
            {
                case IInvocationOperation { TargetMethod: { IsStatic: false, Name: "Put" or "Get" or "GetAsync", TypeArguments.Length: 1 } method } invocation
                    when symbols.Is(method.ContainingType, symbols.RayRuntime):
                    type = method.TypeArguments[0];
                    member = CallName(invocation);
                    if (method.Name == "Put")
                    {
                        subject = "The value";
                        if (invocation.Syntax is InvocationExpressionSyntax { ArgumentList.Arguments: { Count: > 0 } arguments })
                        {
                            location = arguments[0].GetLocation();
                        }
                    }

                    break;

                case IInvocationOperation { TargetMethod: { IsStatic: false, Name: "Get" or "GetAsync" } method } invocation
                    when symbols.IsDefinition(method.ContainingType, symbols.ObjectRefOfT):
                    type = method.ContainingType.TypeArguments[0];
                    member = CallName(invocation);
                    break;

                case IInvocationOperation { TargetMethod: { IsStatic: false, Name: "ReadAllAsync" } method } invocation
                    when symbols.IsDefinition(method.ContainingType, symbols.ObjectRefStream):
                    type = method.ContainingType.TypeArguments[0];
                    member = CallName(invocation);
                    break;

                case IAwaitOperation { Operation.Type: INamedTypeSymbol awaited } awaitOperation when symbols.IsDefinition(awaited, symbols.ObjectRefOfT):
                    type = awaited.TypeArguments[0];
                    member = $"'{awaitOperation.Syntax}'";
                    break;

                default:
                    return;
            }

            if (!ReportedByGenerator(type) && checker.FindOffender(type) is { } offender)
            {
                Report(context.ReportDiagnostic, location, subject, member, type, offender);
            }
        }

        /// <summary>How the user wrote the method called, for example <c>'ray.Put'</c> or <c>'reference.Get'</c>.</summary>
        private static string CallName(IInvocationOperation invocation)
            => invocation.Syntax is InvocationExpressionSyntax syntax ? $"'{syntax.Expression}'" : $"'{invocation.TargetMethod.Name}'";

        /// <summary>An <c>ArrayView&lt;T&gt;</c> parameter is fine unless it may be null: the runtime always opens a view on an array.</summary>
        private static void CheckViewParameter(SymbolAnalysisContext context, Location? location, string subject, string member, IParameterSymbol parameter)
        {
            var view = parameter.Type;
            var array = ArrayOf(view);
            if (view.NullableAnnotation == NullableAnnotation.Annotated)
            {
                ReportArrayView(
                    context,
                    location,
                    subject,
                    member,
                    $"is a nullable '{Readable(view)}?', but the runtime opens a view on an array, never on null",
                    $"declare it '{Readable(view)}' and pass an empty array for no data, or take '{array}?' instead");
            }
            else if (parameter.IsOptional)
            {
                ReportArrayView(
                    context,
                    location,
                    subject,
                    member,
                    "has a default value, but the only default of a view is null, and the runtime opens a view on an array, never on null",
                    $"remove the default value, or take '{array}?' instead");
            }
        }

        private static void ReportArrayView(SymbolAnalysisContext context, Location? location, string subject, string member, string problem, string advice)
            => context.ReportDiagnostic(Diagnostic.Create(AnalyzerDescriptors.ArrayViewOutsideParameter, location, subject, member, problem, advice));

        /// <summary>"is 'V'" when <paramref name="declared"/> is the view itself, else "has type 'D', which holds a 'V'".</summary>
        private static string DescribeHolder(ITypeSymbol declared, ITypeSymbol view)
            => SymbolEqualityComparer.Default.Equals(declared, view)
                ? $"is '{Readable(view)}'"
                : $"has type '{Readable(declared)}', which holds a '{Readable(view)}'";

        /// <summary>The array an <c>ArrayView&lt;T&gt;</c> views, as the user writes it: <c>T[]</c>.</summary>
        private static string ArrayOf(ITypeSymbol view) => Readable(((INamedTypeSymbol)view).TypeArguments[0]) + "[]";

        /// <summary>What the method is to Ray ("remote method 'X.M(int)'"), or null when it does not cross a process boundary.</summary>
        private static string? Describe(IMethodSymbol method, RaySymbols symbols)
        {
            if (method.MethodKind == MethodKind.Ordinary && method.IsStatic && symbols.HasRemoteAttribute(method))
            {
                return $"remote method '{ReadableName(method)}'";
            }

            if (method.IsStatic || !symbols.IsActorClass(method.ContainingType))
            {
                return null;
            }

            if (method.MethodKind == MethodKind.Constructor
                && method.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
            {
                return $"actor constructor '{ReadableName(method)}'";
            }

            // The methods a handle calls, as the generator picks them: not overrides of object's members, not what
            // the compiler declares for a record, not a record's Equals(T) or a Deconstruct, which are language patterns.
            if (method is { MethodKind: MethodKind.Ordinary, DeclaredAccessibility: Accessibility.Public, IsImplicitlyDeclared: false }
                && !IsObjectOverride(method)
                && !IsLanguagePattern(method))
            {
                return $"actor method '{ReadableName(method)}'";
            }

            return null;
        }

        /// <summary>Kinds the generator already reports as RAY0002 at the top level; reporting them twice would only add noise.</summary>
        private static bool ReportedByGenerator(ITypeSymbol type)
            => type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Delegate || type.IsRefLikeType;

        private static bool IsLanguagePattern(IMethodSymbol method)
            => method.Name == "Deconstruct"
               || (method.Name == "Equals"
                   && method.ContainingType.IsRecord
                   && method.Parameters.Length == 1
                   && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, method.ContainingType));

        private static bool IsObjectOverride(IMethodSymbol method)
        {
            for (var overridden = method.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
            {
                if (overridden.ContainingType.SpecialType == SpecialType.System_Object)
                {
                    return true;
                }
            }

            return false;
        }

        private static void Report(Action<Diagnostic> report, Location? location, string subject, string member, ITypeSymbol declared, ITypeSymbol offender)
        {
            var isDeclared = SymbolEqualityComparer.Default.Equals(declared, offender);
            var because = isDeclared
                ? " because MemoryPack cannot serialize it"
                : $" because MemoryPack cannot serialize the '{Readable(offender)}' inside it";
            var fixableInSource = IsFixableInSource(offender);
            var diagnostic = Diagnostic.Create(
                AnalyzerDescriptors.NotSerializable,
                location,
                fixableInSource ? offender.Locations.Where(l => l.IsInSource) : null,
                fixableInSource ? SourceTypeProperties : null,
                subject,
                member,
                Readable(declared),
                because,
                Advice(offender));
            report(diagnostic);
        }

        /// <summary>A user class, struct or record in this compilation: adding <c>[MemoryPackable]</c> and <c>partial</c> makes it serializable.</summary>
        private static bool IsFixableInSource(ITypeSymbol type)
            => type is INamedTypeSymbol { TypeKind: TypeKind.Class or TypeKind.Struct, IsAbstract: false, IsStatic: false, SpecialType: SpecialType.None } named
               && !named.IsRefLikeType
               && named.Locations.Any(location => location.IsInSource);

        private static string Advice(ITypeSymbol offender)
        {
            var name = Readable(offender);
            if (offender.SpecialType == SpecialType.System_Object || offender.TypeKind == TypeKind.Dynamic)
            {
                return $"'{name}' can hold anything, so the receiving side cannot know what to read; use a concrete type such as a [MemoryPackable] partial record";
            }

            if (offender.TypeKind == TypeKind.Delegate)
            {
                return $"'{name}' is code, which cannot be sent to a worker; pass data instead, and make the operation a remote method of its own";
            }

            if (offender.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer || offender.IsRefLikeType)
            {
                return $"'{name}' only has a meaning inside one process; pass the data itself, for example as an array";
            }

            if (offender is IArrayTypeSymbol)
            {
                return "MemoryPack serializes arrays of at most four dimensions; use fewer dimensions or a flat array";
            }

            if (offender.Locations.Any(location => location.IsInSource))
            {
                return offender.TypeKind == TypeKind.Interface || offender.IsAbstract
                    ? $"mark '{name}' with [MemoryPackable] and a [MemoryPackUnion] attribute for each implementation, and declare it 'partial'"
                    : $"mark '{name}' with [MemoryPackable] and declare it 'partial', and MemoryPack's source generator, which comes with RayGen, writes its serializer";
            }

            return $"MemoryPack has no formatter for '{name}'; pass the data it holds instead, for example as a byte[] or a [MemoryPackable] partial type of your own";
        }

        /// <summary>The return type's syntax; for <c>Task&lt;T&gt;</c> and <c>ValueTask&lt;T&gt;</c>, the <c>T</c> in it, which is what crosses.</summary>
        private static Location? ResultLocation(IMethodSymbol method, bool unwrapped, CancellationToken cancellationToken)
        {
            foreach (var reference in method.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is MethodDeclarationSyntax declaration)
                {
                    var returnType = declaration.ReturnType is QualifiedNameSyntax qualified ? qualified.Right : declaration.ReturnType;
                    return unwrapped && returnType is GenericNameSyntax { TypeArgumentList.Arguments: { Count: 1 } arguments }
                        ? arguments[0].GetLocation()
                        : declaration.ReturnType.GetLocation();
                }
            }

            return method.Locations.FirstOrDefault();
        }

        private static string ReadableName(IMethodSymbol method)
        {
            var parameters = string.Join(", ", method.Parameters.Select(parameter => parameter.Type.ToDisplayString(ReadableFormat)));
            var name = method.MethodKind == MethodKind.Constructor
                ? method.ContainingType.ToDisplayString(ReadableFormat)
                : $"{method.ContainingType.ToDisplayString(ReadableFormat)}.{method.Name}";
            return $"{name}({parameters})";
        }

        private static string Readable(ITypeSymbol type) => type.ToDisplayString(ReadableFormat);
    }
}
