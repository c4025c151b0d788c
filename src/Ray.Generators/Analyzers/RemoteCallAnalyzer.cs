using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ray.Generators.Analyzers
{
    /// <summary>
    /// Ray's documented anti-patterns in code that calls remote methods, as warnings:
    /// RAY0011 a blocking wait (<c>Get()</c>, <c>Wait()</c>, <c>ray.Get(references)</c>) in async remote code,
    /// RAY0012 a wait (blocking or <c>await</c>) in the loop that submits the task, RAY0013 the same large value
    /// passed by value to a task on every pass of a loop.
    /// </summary>
    /// <remarks>
    /// Only invocation and await operations are analyzed, so an edit inside one method body re-runs this analyzer on
    /// that body alone; the few look-ups beyond the operation stay inside the enclosing loop.
    /// </remarks>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class RemoteCallAnalyzer : DiagnosticAnalyzer
    {
        private static readonly SymbolDisplayFormat ReadableFormat = new(
            globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

        private static readonly SymbolDisplayFormat MemberFormat = new(
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
            memberOptions: SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeParameters,
            parameterOptions: SymbolDisplayParameterOptions.IncludeType,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

        /// <summary>
        /// The key of RAY0011's property that says how to write the wait with 'await' when that keeps its meaning:
        /// <see cref="AwaitReference"/> or <see cref="AwaitGetAsync"/>. A wait with a timeout has none.
        /// </summary>
        public const string AwaitFormProperty = "RayGen.AwaitForm";

        /// <summary><c>reference.Get()</c> or <c>reference.Wait()</c> becomes <c>await reference</c>.</summary>
        public const string AwaitReference = "Reference";

        /// <summary><c>ray.Get(references)</c> becomes <c>await ray.GetAsync(references)</c>.</summary>
        public const string AwaitGetAsync = "GetAsync";

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
            AnalyzerDescriptors.BlockingGetInAsync,
            AnalyzerDescriptors.GetInSubmittingLoop,
            AnalyzerDescriptors.LargeValueInLoop);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                if (RaySymbols.Create(start.Compilation) is not { ObjectRefOfT: not null } symbols)
                {
                    return;
                }

                start.RegisterOperationAction(operationContext => AnalyzeInvocation(operationContext, symbols), OperationKind.Invocation);
                start.RegisterOperationAction(operationContext => AnalyzeAwait(operationContext, symbols), OperationKind.Await);
            });
        }

        private static void AnalyzeInvocation(OperationAnalysisContext context, RaySymbols symbols)
        {
            var invocation = (IInvocationOperation)context.Operation;
            if (symbols.IsRemoteStub(invocation.TargetMethod))
            {
                AnalyzeSubmission(context, invocation);
            }
            else
            {
                AnalyzeBlockingWait(context, invocation, symbols);
            }
        }

        /// <summary>
        /// RAY0011 and RAY0012 for a call that blocks until objects are ready: <c>Get</c> or <c>Wait</c> on a
        /// reference, or <c>Get</c> on the runtime (<c>ray.Get(references)</c>, <c>RayRuntime.Current.Get(references)</c>).
        /// </summary>
        private static void AnalyzeBlockingWait(OperationAnalysisContext context, IInvocationOperation wait, RaySymbols symbols)
        {
            var target = wait.TargetMethod;
            if (target.IsStatic || wait.Instance is not { IsImplicit: false } receiver)
            {
                return;
            }

            var onReference = target.Name is "Get" or "Wait" && symbols.IsObjectRef(target.ContainingType);
            var onRuntime = target.Name == "Get" && symbols.Is(target.ContainingType, symbols.RayRuntime);
            if (!onReference && !onRuntime)
            {
                return;
            }

            var scope = Scope.Of(wait);
            var isAsync = scope.Function is { } function ? function.IsAsync : context.ContainingSymbol is IMethodSymbol { IsAsync: true };
            if (isAsync && DescribeRemoteMember(context.ContainingSymbol, symbols) is { } member)
            {
                var arguments = wait.Syntax is InvocationExpressionSyntax syntax ? syntax.ArgumentList.Arguments.ToString() : string.Empty;
                var instead = onReference ? $"await {receiver.Syntax}" : $"await {receiver.Syntax}.GetAsync({arguments})";

                // Only a wait without a timeout has an 'await' that means the same.
                var form = onReference ? (target.Parameters.IsEmpty ? AwaitReference : null)
                    : target.Parameters.Length == 1 ? AwaitGetAsync : null;
                var properties = form is null
                    ? ImmutableDictionary<string, string?>.Empty
                    : ImmutableDictionary<string, string?>.Empty.Add(AwaitFormProperty, form);
                context.ReportDiagnostic(Diagnostic.Create(
                    AnalyzerDescriptors.BlockingGetInAsync, wait.Syntax.GetLocation(), properties, wait.Syntax.ToString(), member, instead));
            }

            if (onReference && scope.Loop is { } loop && SubmissionInLoop(Unwrap(receiver), loop, symbols) is { } submission)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    AnalyzerDescriptors.GetInSubmittingLoop, wait.Syntax.GetLocation(), target.Name + "()", StubName(submission)));
            }
        }

        /// <summary>RAY0012 for <c>await future</c> (or <c>await future.GetAsync(...)</c>) in the loop that submits the future.</summary>
        private static void AnalyzeAwait(OperationAnalysisContext context, RaySymbols symbols)
        {
            var awaited = Unwrap(((IAwaitOperation)context.Operation).Operation);
            if (awaited is IInvocationOperation { TargetMethod: { Name: "GetAsync" or "WaitAsync", IsStatic: false } method, Instance: { } instance }
                && symbols.IsObjectRef(method.ContainingType))
            {
                awaited = Unwrap(instance);
            }

            if (symbols.IsObjectRef(awaited.Type)
                && Scope.Of(context.Operation).Loop is { } loop
                && SubmissionInLoop(awaited, loop, symbols) is { } submission)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    AnalyzerDescriptors.GetInSubmittingLoop, context.Operation.Syntax.GetLocation(), "await", StubName(submission)));
            }
        }

        /// <summary>RAY0013: a loop-invariant array or collection passed by value to a remote call inside a loop.</summary>
        private static void AnalyzeSubmission(OperationAnalysisContext context, IInvocationOperation submission)
        {
            if (Scope.Of(submission).Loop is not { } loop)
            {
                return;
            }

            foreach (var argument in submission.Arguments)
            {
                if (argument.IsImplicit || Unwrap(argument.Value) is not { Type: { } type } value || !IsLargeValue(type))
                {
                    continue;
                }

                if (LoopInvariantVariable(value, loop) is { } variable)
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        AnalyzerDescriptors.LargeValueInLoop,
                        argument.Syntax.GetLocation(),
                        variable.Name,
                        type.ToDisplayString(ReadableFormat),
                        StubName(submission)));
                }
            }
        }

        /// <summary>
        /// The task submission whose future <paramref name="future"/> is, when that call runs on every pass of
        /// <paramref name="loop"/>: the call itself, or a local declared in the loop's body and initialized with it.
        /// </summary>
        private static IInvocationOperation? SubmissionInLoop(IOperation future, ILoopOperation loop, RaySymbols symbols)
        {
            switch (future)
            {
                case IInvocationOperation invocation when symbols.IsTaskStub(invocation.TargetMethod):
                    return invocation;

                case ILocalReferenceOperation { Local: { } local } when IsDeclaredInside(local, loop.Body):
                    foreach (var reference in local.DeclaringSyntaxReferences)
                    {
                        if (reference.GetSyntax() is VariableDeclaratorSyntax declarator
                            && future.SemanticModel?.GetOperation(declarator) is IVariableDeclaratorOperation { Initializer: { } initializer }
                            && Unwrap(initializer.Value) is IInvocationOperation call
                            && symbols.IsTaskStub(call.TargetMethod))
                        {
                            return call;
                        }
                    }

                    return null;

                default:
                    return null;
            }
        }

        /// <summary>The local, parameter or field that <paramref name="value"/> reads, when it is declared outside <paramref name="loop"/> and not assigned in it.</summary>
        private static ISymbol? LoopInvariantVariable(IOperation value, ILoopOperation loop)
        {
            ISymbol? variable = value switch
            {
                ILocalReferenceOperation local => local.Local,
                IParameterReferenceOperation parameter => parameter.Parameter,
                IFieldReferenceOperation { Instance: null or IInstanceReferenceOperation } field => field.Field,
                _ => null,
            };

            if (variable is null || IsDeclaredInside(variable, loop))
            {
                return null;
            }

            // A value that the loop changes is a different value on each pass, which one Put cannot replace:
            // assigned, an element assigned, or a method called on it ('list.Add(i)').
            foreach (var operation in loop.Body.DescendantsAndSelf())
            {
                var changed = operation switch
                {
                    IAssignmentOperation assignment => Unwrap(assignment.Target) switch
                    {
                        IArrayElementReferenceOperation element => ReadsVariable(Unwrap(element.ArrayReference), variable),
                        IPropertyReferenceOperation { Instance: { } instance } => ReadsVariable(Unwrap(instance), variable),
                        var target => ReadsVariable(target, variable),
                    },
                    IInvocationOperation { Instance: { } instance } => ReadsVariable(Unwrap(instance), variable),
                    _ => false,
                };
                if (changed)
                {
                    return null;
                }
            }

            return variable;
        }

        private static bool ReadsVariable(IOperation operation, ISymbol variable) => operation switch
        {
            ILocalReferenceOperation local => SymbolEqualityComparer.Default.Equals(local.Local, variable),
            IParameterReferenceOperation parameter => SymbolEqualityComparer.Default.Equals(parameter.Parameter, variable),
            IFieldReferenceOperation field => SymbolEqualityComparer.Default.Equals(field.Field, variable),
            _ => false,
        };

        /// <summary>An array or a collection: worth putting in the object store once when it is sent many times.</summary>
        private static bool IsLargeValue(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol)
            {
                return true;
            }

            if (type.SpecialType == SpecialType.System_String || type is not INamedTypeSymbol { TypeKind: TypeKind.Class or TypeKind.Interface or TypeKind.Struct })
            {
                return false;
            }

            if (type is INamedTypeSymbol { Name: "ObjectRef" or "ActorHandle" or "Arg", ContainingNamespace.Name: "Ray" })
            {
                return false;
            }

            foreach (var implemented in type.AllInterfaces)
            {
                if (implemented.SpecialType == SpecialType.System_Collections_IEnumerable)
                {
                    return true;
                }
            }

            return type.SpecialType == SpecialType.System_Collections_IEnumerable;
        }

        private static bool IsDeclaredInside(ISymbol symbol, IOperation operation)
        {
            var span = operation.Syntax.Span;
            var tree = operation.Syntax.SyntaxTree;
            foreach (var location in symbol.Locations)
            {
                if (location.SourceTree == tree && span.Contains(location.SourceSpan))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>How the user wrote the call, for example <c>Work.Remote.Sum</c>.</summary>
        private static string StubName(IInvocationOperation invocation)
            => invocation.Syntax is InvocationExpressionSyntax syntax
                ? syntax.Expression.ToString()
                : invocation.TargetMethod.ToDisplayString(MemberFormat);

        /// <summary>"remote method 'X.M(int)'" or "actor method 'A.M()'" when <paramref name="symbol"/> runs in a worker, else null.</summary>
        private static string? DescribeRemoteMember(ISymbol symbol, RaySymbols symbols)
        {
            // Inside a lambda or local function the containing symbol can be the function itself.
            while (symbol is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction } && symbol.ContainingSymbol is { } outer)
            {
                symbol = outer;
            }

            if (symbol is not IMethodSymbol method)
            {
                return null;
            }

            if (method.IsStatic && method.MethodKind == MethodKind.Ordinary && symbols.HasRemoteAttribute(method))
            {
                return $"remote method '{method.ToDisplayString(MemberFormat)}'";
            }

            return !method.IsStatic && symbols.IsActorClass(method.ContainingType)
                ? $"actor method '{method.ToDisplayString(MemberFormat)}'"
                : null;
        }

        private static IOperation Unwrap(IOperation operation)
        {
            while (true)
            {
                switch (operation)
                {
                    case IConversionOperation conversion:
                        operation = conversion.Operand;
                        break;
                    case IParenthesizedOperation parenthesized:
                        operation = parenthesized.Operand;
                        break;
                    default:
                        return operation;
                }
            }
        }

        /// <summary>Where an operation runs: the innermost loop whose body holds it, and the lambda or local function around it.</summary>
        private readonly struct Scope
        {
            private Scope(ILoopOperation? loop, IMethodSymbol? function)
            {
                Loop = loop;
                Function = function;
            }

            public ILoopOperation? Loop { get; }

            /// <summary>The lambda or local function that holds the operation, or null when it is the member's own body.</summary>
            public IMethodSymbol? Function { get; }

            public static Scope Of(IOperation operation)
            {
                ILoopOperation? loop = null;
                var child = operation;
                for (var parent = operation.Parent; parent is not null; child = parent, parent = parent.Parent)
                {
                    switch (parent)
                    {
                        case ILoopOperation candidate when loop is null && candidate.Body == child:
                            loop = candidate;
                            break;
                        case IAnonymousFunctionOperation lambda:
                            return new Scope(loop, lambda.Symbol);
                        case ILocalFunctionOperation localFunction:
                            return new Scope(loop, localFunction.Symbol);
                    }
                }

                return new Scope(loop, null);
            }
        }
    }
}
