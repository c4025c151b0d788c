using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Ray.Generators.Helpers;
using Ray.Generators.Model;

namespace Ray.Generators
{
    /// <summary>
    /// Turns the symbols of <c>[Remote]</c> declarations into specs and diagnostics. Nothing it returns holds
    /// a symbol, a syntax node or a compilation, so the pipeline can compare and cache what it produces.
    /// </summary>
    internal static partial class Parser
    {
        private static readonly SymbolDisplayFormat FullyQualifiedFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        // The function's readable name, and the base of its id: full names without 'global::', C# keywords for
        // special types, and no nullable reference annotations, because those are not part of a signature.
        private static readonly SymbolDisplayFormat ReadableFormat = new SymbolDisplayFormat(
            globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

        private static readonly SymbolDisplayFormat NamespaceFormat = new SymbolDisplayFormat(
            globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

        // Members of the generated 'Remote' class that a stub of the same name would clash with.
        private static readonly string[] ReservedStubNames = { "WithOptions", "Configured" };

        /// <summary>Parses one declaration that <c>[Remote]</c> marks.</summary>
        public static RemoteTargetResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var remoteAttribute = context.Attributes[0].AttributeClass;
            switch (context.TargetSymbol)
            {
                case INamedTypeSymbol { TypeKind: TypeKind.Class } type when remoteAttribute is not null:
                    return ParseActor(type, context, remoteAttribute, cancellationToken);

                case IMethodSymbol method when remoteAttribute is not null:
                    return ParseMethod(method, context, remoteAttribute, cancellationToken);

                default:
                    return RemoteTargetResult.Empty;
            }
        }

        /// <summary>
        /// Groups the methods by containing type, one spec (and one generated file) per type, in a stable order.
        /// </summary>
        public static ImmutableArray<RemoteTypeSpec> GroupByContainingType(
            ImmutableArray<RemoteMethodSpec> methods,
            string assemblyName,
            CancellationToken cancellationToken)
        {
            var builder = ImmutableArray.CreateBuilder<RemoteTypeSpec>();
            foreach (var group in methods.GroupBy(method => method.ContainingType).OrderBy(group => group.Key.FullName, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var ordered = group
                    .OrderBy(method => method.Method.Name, StringComparer.Ordinal)
                    .ThenBy(method => method.Method.ReadableName, StringComparer.Ordinal)
                    .ToImmutableEquatableArray();
                builder.Add(new RemoteTypeSpec(group.Key, group.Key.FullName + ".Remote.g.cs", assemblyName, ordered));
            }

            return builder.ToImmutable();
        }

        /// <summary>Flattens the diagnostics of all declarations, dropping repeats in first-seen order.</summary>
        /// <remarks>
        /// A problem with a type (not partial, private, generic) is found once per remote method in it, but
        /// must be reported once.
        /// </remarks>
        public static ImmutableEquatableArray<DiagnosticInfo> Distinct(ImmutableArray<ImmutableEquatableArray<DiagnosticInfo>> diagnostics)
            => diagnostics.SelectMany(perTarget => perTarget).Distinct().ToImmutableEquatableArray();

        private static RemoteTargetResult ParseMethod(
            IMethodSymbol method,
            GeneratorAttributeSyntaxContext context,
            INamedTypeSymbol remoteAttribute,
            CancellationToken cancellationToken)
        {
            var location = MethodLocation(method, context.TargetNode);
            var containingType = method.ContainingType;

            var member = $"remote method '{ReadableName(method)}'";
            if (method.MethodKind != MethodKind.Ordinary)
            {
                return Failure(DiagnosticInfo.Create(
                    DiagnosticDescriptors.CannotGenerate, location, member, DescribeMethodKind(method)));
            }

            var isActor = IsActorClass(containingType, remoteAttribute);
            if (!method.IsStatic)
            {
                if (!isActor)
                {
                    return Failure(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InstanceMethod, location, ReadableName(method), Readable(containingType)));
                }

                // A public method of an actor is called through its handle anyway, and the class's own parse checks it;
                // [Remote] on any other instance method of an actor asks for something that cannot happen.
                if (method.DeclaredAccessibility == Accessibility.Public)
                {
                    var unused = new List<DiagnosticInfo>();
                    CheckActorMethodOptions(context.Attributes[0], method, unused, cancellationToken);
                    CheckStreamingOptions(context.Attributes[0], method, $"actor method '{ReadableName(method)}'", new KnownTypeSymbols(context.SemanticModel.Compilation), unused, cancellationToken);
                    return new RemoteTargetResult(null, null, unused.ToImmutableEquatableArray());
                }

                return Failure(DiagnosticInfo.Create(
                        DiagnosticDescriptors.CannotGenerate,
                        location,
                        $"actor method '{ReadableName(method)}'",
                        "only the public instance methods of an actor are called through its handle; make the method public, or remove [Remote]"));
            }

            if (isActor)
            {
                return Failure(DiagnosticInfo.Create(
                    DiagnosticDescriptors.TaskInActorClass, location, ReadableName(method), Readable(containingType)));
            }

            if (containingType.TypeKind is not (TypeKind.Class or TypeKind.Struct or TypeKind.Interface))
            {
                return Failure(DiagnosticInfo.Create(
                    DiagnosticDescriptors.CannotGenerate,
                    location,
                    member,
                    "it is not declared directly in a class, struct or interface, where RayGen could add its stub; move it into a partial class"));
            }

            var known = new KnownTypeSymbols(context.SemanticModel.Compilation);
            var diagnostics = new List<DiagnosticInfo>();
            CheckContainingTypes(containingType, isActor: false, diagnostics, cancellationToken);
            CheckMethod(method, location, remoteAttribute, known, diagnostics);
            CheckReturnType(method, context.TargetNode, member, location, diagnostics);
            CheckParameters(method, member, known, diagnostics, cancellationToken);
            if (diagnostics.Count > 0)
            {
                return new RemoteTargetResult(null, null, diagnostics.ToImmutableEquatableArray());
            }

            // A value the task does not use is an error, but the stub is still generated: it is right without the value.
            CheckTaskOptions(context.Attributes[0], method, diagnostics, cancellationToken);
            CheckStreamingOptions(context.Attributes[0], method, member, known, diagnostics, cancellationToken);
            var spec = CreateMethodSpec(method, context.Attributes[0], remoteAttribute, context.SemanticModel.Compilation, known);
            return new RemoteTargetResult(spec, null, diagnostics.ToImmutableEquatableArray());
        }

        /// <summary>
        /// Checks <paramref name="declaringType"/>, the type that holds tasks or is an actor, and the types around it:
        /// each must be partial and reachable from the whole assembly; the holder of tasks must not be generic (an
        /// actor's own parse says why a generic actor cannot be).
        /// </summary>
        private static void CheckContainingTypes(INamedTypeSymbol declaringType, bool isActor, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            for (var type = declaringType; type is not null; type = type.ContainingType)
            {
                var declarations = type.DeclaringSyntaxReferences
                    .Select(reference => reference.GetSyntax(cancellationToken))
                    .OfType<TypeDeclarationSyntax>()
                    .ToList();
                var notPartial = declarations.FirstOrDefault(declaration => !declaration.Modifiers.Any(SyntaxKind.PartialKeyword));
                var identifier = (notPartial ?? declarations.FirstOrDefault())?.Identifier.GetLocation() ?? type.Locations.FirstOrDefault();

                var isDeclaringType = SymbolEqualityComparer.Default.Equals(type, declaringType);
                if (notPartial is not null)
                {
                    var reason = (isDeclaringType, isActor) switch
                    {
                        (true, false) => "it contains [Remote] methods",
                        (false, false) => $"its nested type '{Readable(declaringType)}' contains [Remote] methods",
                        (true, true) => "it is an actor ([Remote] class)",
                        (false, true) => $"its nested type '{Readable(declaringType)}' is an actor ([Remote] class)",
                    };
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial, identifier, Readable(type), reason));
                }

                var subject = (isDeclaringType, isActor) switch
                {
                    (_, false) => $"Type '{Readable(type)}', which contains [Remote] methods,",
                    (true, true) => $"Actor class '{Readable(type)}'",
                    (false, true) => $"Type '{Readable(type)}', which contains the actor class '{Readable(declaringType)}',",
                };
                if (DescribeInaccessibility(type) is { } inaccessibility)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotAccessible, identifier, subject, inaccessibility));
                }

                if (!isActor && type.TypeParameters.Length > 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.Generic, identifier, subject, "move the [Remote] methods to a non-generic type"));
                }
            }
        }

        private static void CheckMethod(
            IMethodSymbol method,
            Location? location,
            INamedTypeSymbol remoteAttribute,
            KnownTypeSymbols known,
            List<DiagnosticInfo> diagnostics)
        {
            var name = ReadableName(method);
            if (DescribeInaccessibility(method) is { } inaccessibility)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotAccessible, location, $"Remote method '{name}'", inaccessibility));
            }

            if (method.TypeParameters.Length > 0)
            {
                diagnostics.Add(GenericMethod(location, $"Remote method '{name}'"));
            }

            string? problem = null;
            if (method.IsAbstract || method.IsVirtual)
            {
                problem = "it is an abstract or virtual static interface member, which can only be called through a type parameter; give it a body in a class instead";
            }
            else if (DescribeUncallable(method, "remove [Remote] or the error flag") is { } uncallable)
            {
                problem = uncallable;
            }
            else if (Array.IndexOf(ReservedStubNames, method.Name) >= 0)
            {
                problem = $"its name '{method.Name}' is taken by a member of the generated 'Remote' class; rename the method";
            }
            else if (method.ContainingType.GetMembers("Remote").Length > 0)
            {
                problem = $"the type '{Readable(method.ContainingType)}' already has a member named 'Remote', where RayGen puts the generated stubs; rename that member";
            }
            else if (FindStubCollision(method, remoteAttribute, known) is { } other)
            {
                problem = $"its stub would take the same parameters as the stub of '{ReadableName(other)}' ({DescribeStubParameters(method, other, "a stub", known)}); rename one of them";
            }

            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CannotGenerate, location, $"remote method '{name}'", problem));
            }
        }

        /// <summary>The diagnostic of a generic task or actor method; <paramref name="subject"/> names it in the message.</summary>
        private static DiagnosticInfo GenericMethod(Location? location, string subject)
            => DiagnosticInfo.Create(DiagnosticDescriptors.Generic, location, subject, "remove its type parameters, for example by writing one method per concrete type");

        /// <summary>Reports a return type that cannot cross a process boundary; <paramref name="member"/> names the method in messages.</summary>
        private static void CheckReturnType(
            IMethodSymbol method,
            SyntaxNode? declarationNode,
            string member,
            Location? methodLocation,
            List<DiagnosticInfo> diagnostics)
        {
            var location = declarationNode is MethodDeclarationSyntax declaration ? declaration.ReturnType.GetLocation() : methodLocation;
            var type = method.ReturnType;
            string? subject = null;
            string? advice = null;
            if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                subject = "The method returns by reference";
                advice = "a result is copied back to the caller, so return the value itself";
            }
            else if (type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer)
            {
                subject = $"The return type '{Readable(type)}' is a pointer";
                advice = "a pointer is only valid inside one process, so return the data itself";
            }
            else if (type.IsRefLikeType)
            {
                subject = $"The return type '{Readable(type)}' is a ref struct";
                advice = "a ref struct cannot be serialized, so return an array or another serializable type instead";
            }
            else if (type.TypeKind == TypeKind.Delegate)
            {
                subject = $"The return type '{Readable(type)}' is a delegate";
                advice = "code cannot be sent back from a worker, so return data instead";
            }

            if (subject is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.UnsupportedParameterOrReturnType, location, subject, member, advice!));
            }
        }

        /// <summary>Reports parameters that cannot cross a process boundary; <paramref name="member"/> names the method in messages.</summary>
        private static void CheckParameters(IMethodSymbol method, string member, KnownTypeSymbols known, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            var hasCancellationToken = false;
            foreach (var parameter in method.Parameters)
            {
                var type = parameter.Type;
                string? subject = null;
                string? advice = null;
                if (parameter.RefKind != RefKind.None)
                {
                    subject = $"Parameter '{parameter.Name}' is passed by reference ('{DescribeRefKind(parameter.RefKind)}')";
                    advice = "arguments are copied to the worker, so changes cannot flow back; pass it by value and return results instead";
                }
                else if (known.IsCancellationToken(type))
                {
                    if (hasCancellationToken)
                    {
                        subject = $"Parameter '{parameter.Name}' is a second CancellationToken";
                        advice = "the runtime gives each task one token; remove the extra CancellationToken parameters";
                    }

                    hasCancellationToken = true;
                }
                else if (type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer)
                {
                    subject = $"Parameter '{parameter.Name}' has the pointer type '{Readable(type)}'";
                    advice = "a pointer is only valid inside one process; pass the data itself, for example as an array";
                }
                else if (type.IsRefLikeType)
                {
                    subject = $"Parameter '{parameter.Name}' has the ref struct type '{Readable(type)}'";
                    advice = "a ref struct cannot be serialized; use an array or a List<T> instead";
                }
                else if (type.TypeKind == TypeKind.Delegate)
                {
                    subject = $"Parameter '{parameter.Name}' has the delegate type '{Readable(type)}'";
                    advice = "code cannot be sent to a worker as an argument; make the operation a remote method of its own, or pass data that selects it";
                }

                if (subject is not null)
                {
                    var location = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken).GetLocation()
                        ?? parameter.Locations.FirstOrDefault();
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.UnsupportedParameterOrReturnType, location, subject, member, advice!));
                }
            }
        }

        private static RemoteMethodSpec CreateMethodSpec(
            IMethodSymbol method,
            AttributeData attribute,
            INamedTypeSymbol remoteAttribute,
            Compilation compilation,
            KnownTypeSymbols known)
        {
            return new RemoteMethodSpec(
                CreateHierarchy(method.ContainingType, remoteAttribute, compilation),
                GeneratedAccessibility(method),
                CreateMethod(method, known, attribute),
                ParseOptions(attribute));
        }

        /// <summary>
        /// The spec of a task or an actor method: what its stub or extension method and its invoker need.
        /// <paramref name="remote"/> is the method's own <c>[Remote]</c>, which may make it stream; null when it has none.
        /// </summary>
        private static MethodSpec CreateMethod(IMethodSymbol method, KnownTypeSymbols known, AttributeData? remote)
        {
            var (returnKind, resultType) = ClassifyReturn(method, known, SetsStreaming(remote));
            var readableName = ReadableName(method);
            return new MethodSpec(
                EscapeIdentifier(method.Name),
                readableName,
                FunctionId.Compute(readableName),
                method.GetDocumentationCommentId() ?? string.Empty,
                returnKind,
                resultType,
                CreateParameters(method, known),
                FormatObsoleteAttribute(method),
                returnKind == ReturnKind.Stream ? BackpressureSet(remote) : null);
        }

        /// <summary>
        /// How <paramref name="method"/> returns, and the type of the result its caller receives (for a stream, its items'
        /// type); <paramref name="streaming"/> makes an <c>IEnumerable&lt;T&gt;</c> result a stream.
        /// </summary>
        private static (ReturnKind Kind, string? ResultType) ClassifyReturn(IMethodSymbol method, KnownTypeSymbols known, bool streaming)
        {
            var returnType = method.ReturnType;
            if (method.ReturnsVoid)
            {
                return (ReturnKind.Void, null);
            }

            if (known.StreamItemType(returnType, streaming) is { } item)
            {
                return (ReturnKind.Stream, item.ToDisplayString(FullyQualifiedFormat));
            }

            if (known.IsNonGenericAwaitable(returnType))
            {
                return (ReturnKind.Awaitable, null);
            }

            if (known.IsGenericAwaitable(returnType))
            {
                return (ReturnKind.AwaitableValue, ((INamedTypeSymbol)returnType).TypeArguments[0].ToDisplayString(FullyQualifiedFormat));
            }

            return (ReturnKind.Value, returnType.ToDisplayString(FullyQualifiedFormat));
        }

        /// <summary>The parameters of a task, actor constructor or actor method, with their positions among the serialized arguments.</summary>
        private static ImmutableEquatableArray<ParameterSpec> CreateParameters(IMethodSymbol method, KnownTypeSymbols known)
        {
            var parameters = new List<ParameterSpec>(method.Parameters.Length);
            var argumentIndex = 0;
            foreach (var parameter in method.Parameters)
            {
                var type = parameter.Type.ToDisplayString(FullyQualifiedFormat);
                var identifier = EscapeIdentifier(parameter.Name);
                if (known.IsCancellationToken(parameter.Type))
                {
                    parameters.Add(new ParameterSpec(parameter.Name, identifier, type, ParameterKind.CancellationToken, -1, false, null, null));
                }
                else if (parameter.IsParams)
                {
                    parameters.Add(new ParameterSpec(parameter.Name, identifier, type, ParameterKind.Params, argumentIndex++, false, null, null));
                }
                else
                {
                    // A nullable or optional view (RAY0014, which the SerializationAnalyzer reports) gets the same stub.
                    var elementType = known.ArrayViewElementType(parameter.Type);
                    parameters.Add(new ParameterSpec(
                        parameter.Name,
                        identifier,
                        type,
                        elementType is null ? ParameterKind.Value : ParameterKind.ArrayView,
                        argumentIndex++,
                        parameter.IsOptional,
                        parameter.IsOptional ? FormatDefaultValue(parameter) : null,
                        elementType?.ToDisplayString(FullyQualifiedFormat)));
                }
            }

            return parameters.ToImmutableEquatableArray();
        }

        private static TypeHierarchySpec CreateHierarchy(INamedTypeSymbol type, INamedTypeSymbol remoteAttribute, Compilation compilation)
        {
            return new TypeHierarchySpec(
                type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString(NamespaceFormat) : null,
                Nesting(type).Select(current => new ContainingTypeSpec(DeclarationKeywords(current), EscapeIdentifier(current.Name))).ToImmutableEquatableArray(),
                type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                type.ToDisplayString(ReadableFormat),
                InheritsGeneratedMember(type, "Remote", remoteAttribute, compilation),
                InheritsGeneratedMember(type, "__RayFunctions", remoteAttribute, compilation));
        }

        /// <summary>
        /// Whether a base type has an accessible member named <paramref name="name"/>, so the generated one needs
        /// <c>new</c>. A base type in this compilation does not have its generated members yet, so one with
        /// <c>[Remote]</c> methods counts too.
        /// </summary>
        private static bool InheritsGeneratedMember(INamedTypeSymbol type, string name, INamedTypeSymbol remoteAttribute, Compilation compilation)
        {
            // An actor base class of this compilation gets 'Remote(...)' factories, which a 'Remote' class hides.
            return HidesInherited(
                type,
                name,
                static _ => true,
                baseType => HasRemoteMethods(baseType, remoteAttribute) || (name == "Remote" && IsActorClass(baseType, remoteAttribute)),
                compilation);
        }

        /// <summary>
        /// Whether a base type (for an interface, a base interface) has an accessible member named
        /// <paramref name="name"/> that a generated member of that name hides: any member that is not a method, or a
        /// method <paramref name="sameSignature"/> accepts. A base type of this compilation does not have its
        /// generated members yet, so <paramref name="willGenerate"/> says whether it gets one.
        /// </summary>
        private static bool HidesInherited(
            INamedTypeSymbol type,
            string name,
            Func<IMethodSymbol, bool> sameSignature,
            Func<INamedTypeSymbol, bool> willGenerate,
            Compilation compilation)
        {
            IEnumerable<INamedTypeSymbol> baseTypes = type.TypeKind == TypeKind.Interface ? type.AllInterfaces : BaseTypes(type);
            foreach (var baseType in baseTypes)
            {
                if (baseType.GetMembers(name).Any(member => compilation.IsSymbolAccessibleWithin(member, type)
                                                            && (member is not IMethodSymbol method || sameSignature(method))))
                {
                    return true;
                }

                if (SymbolEqualityComparer.Default.Equals(baseType.ContainingAssembly, compilation.Assembly) && willGenerate(baseType))
                {
                    return true;
                }
            }

            return false;
        }

        private static List<INamedTypeSymbol> BaseTypes(INamedTypeSymbol type)
        {
            var baseTypes = new List<INamedTypeSymbol>();
            for (var current = type.BaseType; current is not null; current = current.BaseType)
            {
                baseTypes.Add(current);
            }

            return baseTypes;
        }

        /// <summary>The type and the types around it, outermost first.</summary>
        private static List<INamedTypeSymbol> Nesting(INamedTypeSymbol type)
        {
            var nesting = new List<INamedTypeSymbol>();
            for (var current = type; current is not null; current = current.ContainingType)
            {
                nesting.Insert(0, current);
            }

            return nesting;
        }

        private static RemoteOptionsSpec ParseOptions(AttributeData attribute)
            => attribute.NamedArguments.Aggregate(RemoteOptionsSpec.None, static (options, argument) => (argument.Key, argument.Value.Value) switch
            {
                ("NumCpus", double value) => options with { NumCpus = value },
                ("NumGpus", double value) => options with { NumGpus = value },
                ("MaxRetries", int value) => options with { MaxRetries = value },
                ("RetryExceptions", bool value) => options with { RetryExceptions = value },
                _ => options,
            });

        private static IMethodSymbol? FindStubCollision(IMethodSymbol method, INamedTypeSymbol remoteAttribute, KnownTypeSymbols known)
        {
            foreach (var member in method.ContainingType.GetMembers(method.Name))
            {
                if (member is IMethodSymbol { IsStatic: true, MethodKind: MethodKind.Ordinary } sibling
                    && !SymbolEqualityComparer.Default.Equals(sibling, method)
                    && HasAttribute(sibling, remoteAttribute)
                    && HaveSameStubParameters(method, sibling, known))
                {
                    return sibling;
                }
            }

            return null;
        }

        private static bool HaveSameStubParameters(IMethodSymbol first, IMethodSymbol second, KnownTypeSymbols known)
        {
            var firstParameters = StubParameters(first, known);
            var secondParameters = StubParameters(second, known);
            if (firstParameters.Count != secondParameters.Count)
            {
                return false;
            }

            for (var i = 0; i < firstParameters.Count; i++)
            {
                var a = firstParameters[i];
                var b = secondParameters[i];
                if (a.IsParams != b.IsParams
                    || a.IsOptional != b.IsOptional
                    || !SymbolEqualityComparer.Default.Equals(known.StubArgumentType(a.Type), known.StubArgumentType(b.Type)))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>The parameters that a method's stub, factory or extension method takes: all but a cancellation token.</summary>
        private static List<IParameterSymbol> StubParameters(IMethodSymbol method, KnownTypeSymbols known)
            => method.Parameters.Where(parameter => !known.IsCancellationToken(parameter.Type)).ToList();

        /// <summary>
        /// Why two methods whose stubs collide have different signatures, for the message: a cancellation token is left
        /// out of <paramref name="stub"/>, and an <c>ArrayView&lt;E&gt;</c> becomes an <c>E[]</c> in it.
        /// </summary>
        private static string DescribeStubParameters(IMethodSymbol first, IMethodSymbol second, string stub, KnownTypeSymbols known)
        {
            // A view that meets an array of its elements at the same position, if that is where the signatures differ.
            var view = StubParameters(first, known)
                .Zip(StubParameters(second, known), (a, b) => (First: a.Type, Second: b.Type))
                .Where(pair => !SymbolEqualityComparer.Default.Equals(pair.First, pair.Second))
                .SelectMany(pair => new[] { pair.First, pair.Second })
                .FirstOrDefault(type => known.ArrayViewElementType(type) is not null);
            return view is null
                ? $"a CancellationToken is not part of {stub}"
                : $"a CancellationToken is not part of {stub}, and {stub} takes '{Readable(known.StubArgumentType(view))}' for a parameter of type '{Readable(view)}'";
        }

        private static AttributeData? FindObsoleteAttribute(ISymbol symbol)
            => symbol.GetAttributes().FirstOrDefault(attribute =>
                attribute.AttributeClass?.ToDisplayString(ReadableFormat) == "System.ObsoleteAttribute");

        /// <summary>Whether <paramref name="symbol"/> is marked <c>[Obsolete]</c> as an error, so generated code cannot use it.</summary>
        private static bool IsObsoleteError(ISymbol symbol)
            => FindObsoleteAttribute(symbol) is { ConstructorArguments: { Length: 2 } arguments } && arguments[1].Value is true;

        /// <summary><paramref name="symbol"/>'s <c>[Obsolete]</c> attribute as generated code repeats it, or null when it has none.</summary>
        private static string? FormatObsoleteAttribute(ISymbol symbol)
            => FindObsoleteAttribute(symbol) switch
            {
                null => null,
                { ConstructorArguments: { Length: > 0 } arguments } when arguments[0].Value is string message
                    => $"[global::System.Obsolete({SymbolDisplay.FormatLiteral(message, quote: true)})]",
                _ => "[global::System.Obsolete]",
            };

        /// <summary>
        /// Why the generated worker registration cannot call <paramref name="method"/> (a task, an actor constructor or
        /// an actor method), or null when it can; <paramref name="obsoleteErrorFix"/> says what to do about an
        /// <c>[Obsolete]</c> error.
        /// </summary>
        private static string? DescribeUncallable(IMethodSymbol method, string obsoleteErrorFix)
        {
            if (IsObsoleteError(method))
            {
                return $"it is marked [Obsolete] as an error, so the generated worker registration cannot call it; {obsoleteErrorFix}";
            }

            return method.IsVararg ? "it takes '__arglist'; declare ordinary parameters instead" : null;
        }

        /// <summary>The default value as a C# constant of the parameter's type, or null for <c>null</c>/<c>default</c>.</summary>
        private static string? FormatDefaultValue(IParameterSymbol parameter)
        {
            // default(Arg<T>) wraps default(T). Casting null to Arg<T> instead would not compile (two conversions
            // fit) or, for object, would unbox.
            if (!parameter.HasExplicitDefaultValue || parameter.ExplicitDefaultValue is null)
            {
                return null;
            }

            var value = parameter.ExplicitDefaultValue;
            var valueType = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
                ? nullable.TypeArguments[0]
                : parameter.Type;
            return valueType is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType
                ? FormatEnumValue(enumType, value)
                : FormatLiteral(value);
        }

        private static string FormatEnumValue(INamedTypeSymbol enumType, object value)
        {
            var typeName = enumType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            var member = enumType.GetMembers()
                .OfType<IFieldSymbol>()
                .FirstOrDefault(field => field.HasConstantValue && Equals(field.ConstantValue, value));
            if (member is not null)
            {
                return $"{typeName}.{EscapeIdentifier(member.Name)}";
            }

            return $"({typeName})({FormatLiteral(value)})";
        }

        /// <summary>A C# literal of a constant's exact type, in the invariant culture.</summary>
        private static string FormatLiteral(object value)
        {
            switch (value)
            {
                case string text:
                    return SymbolDisplay.FormatLiteral(text, quote: true);
                case char character:
                    return SymbolDisplay.FormatLiteral(character, quote: true);
                case bool boolean:
                    return boolean ? "true" : "false";
                case double number:
                    return double.IsNaN(number) ? "double.NaN"
                        : double.IsPositiveInfinity(number) ? "double.PositiveInfinity"
                        : double.IsNegativeInfinity(number) ? "double.NegativeInfinity"
                        : number.ToString("R", CultureInfo.InvariantCulture) + "D";
                case float number:
                    return float.IsNaN(number) ? "float.NaN"
                        : float.IsPositiveInfinity(number) ? "float.PositiveInfinity"
                        : float.IsNegativeInfinity(number) ? "float.NegativeInfinity"
                        : number.ToString("R", CultureInfo.InvariantCulture) + "F";
                case decimal number:
                    return number.ToString(CultureInfo.InvariantCulture) + "M";
                case long number:
                    return number.ToString(CultureInfo.InvariantCulture) + "L";
                case ulong number:
                    return number.ToString(CultureInfo.InvariantCulture) + "UL";
                case uint number:
                    return number.ToString(CultureInfo.InvariantCulture) + "U";
                case int number:
                    return number.ToString(CultureInfo.InvariantCulture);
                case short or ushort or byte or sbyte:
                    // No literal has these types: cast an int literal, which keeps the constant's exact type.
                    var integer = Convert.ToInt32(value, CultureInfo.InvariantCulture);
                    var keyword = value switch { short => "short", ushort => "ushort", byte => "byte", _ => "sbyte" };
                    return integer < 0
                        ? $"({keyword})({integer.ToString(CultureInfo.InvariantCulture)})"
                        : $"({keyword}){integer.ToString(CultureInfo.InvariantCulture)}";
                default:
                    return Convert.ToString(value, CultureInfo.InvariantCulture) ?? "default";
            }
        }

        private static string DeclarationKeywords(INamedTypeSymbol type)
        {
            switch (type.TypeKind)
            {
                case TypeKind.Interface:
                    return "partial interface";
                case TypeKind.Struct:
                    // Every declaration of a ref struct says 'ref', and 'ref' comes before 'partial'.
                    var prefix = type.IsRefLikeType ? "ref " : string.Empty;
                    return prefix + (type.IsRecord ? "partial record struct" : "partial struct");
                default:
                    return type.IsRecord ? "partial record" : "partial class";
            }
        }

        private static string? DescribeInaccessibility(ISymbol symbol)
        {
            if (symbol is INamedTypeSymbol { IsFileLocal: true })
            {
                return "file-local";
            }

            switch (symbol.DeclaredAccessibility)
            {
                case Accessibility.Private:
                    return "private";
                case Accessibility.Protected:
                    return "protected";
                case Accessibility.ProtectedAndInternal:
                    return "private protected";
                default:
                    return null;
            }
        }

        private static string DescribeMethodKind(IMethodSymbol method)
        {
            var kind = method.MethodKind switch
            {
                MethodKind.LocalFunction => "a local function",
                MethodKind.AnonymousFunction => "a lambda",
                MethodKind.UserDefinedOperator or MethodKind.Conversion => "an operator",
                MethodKind.ExplicitInterfaceImplementation => "an explicit interface implementation",
                MethodKind.PropertyGet or MethodKind.PropertySet => "a property accessor",
                _ => "not an ordinary method",
            };
            return $"it is {kind}, but [Remote] works on ordinary static methods of a partial type; move the code into such a method";
        }

        private static string DescribeRefKind(RefKind refKind) => refKind switch
        {
            RefKind.Out => "out",
            RefKind.In => "in",
            RefKind.RefReadOnlyParameter => "ref readonly",
            _ => "ref",
        };

        private static Location? MethodLocation(IMethodSymbol method, SyntaxNode targetNode) => targetNode switch
        {
            MethodDeclarationSyntax declaration => declaration.Identifier.GetLocation(),
            LocalFunctionStatementSyntax localFunction => localFunction.Identifier.GetLocation(),
            _ => method.Locations.FirstOrDefault(),
        };

        private static bool IsActorClass(INamedTypeSymbol type, INamedTypeSymbol remoteAttribute)
            => type.TypeKind == TypeKind.Class && HasAttribute(type, remoteAttribute);

        /// <summary>Whether <paramref name="type"/> declares static <c>[Remote]</c> methods, so it gets a generated <c>Remote</c> class.</summary>
        private static bool HasRemoteMethods(INamedTypeSymbol type, INamedTypeSymbol remoteAttribute)
            => type.GetMembers().Any(member => member is IMethodSymbol { IsStatic: true } && HasAttribute(member, remoteAttribute));

        private static bool HasAttribute(ISymbol symbol, INamedTypeSymbol attribute)
            => symbol.GetAttributes().Any(data => SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute));

        private static string ReadableName(IMethodSymbol method)
        {
            var parameters = string.Join(", ", method.Parameters.Select(parameter => parameter.Type.ToDisplayString(ReadableFormat)));
            var typeParameters = method.TypeParameters.Length > 0
                ? "<" + string.Join(", ", method.TypeParameters.Select(parameter => parameter.Name)) + ">"
                : string.Empty;
            return $"{method.ContainingType.ToDisplayString(ReadableFormat)}.{method.Name}{typeParameters}({parameters})";
        }

        private static string Readable(ITypeSymbol type) => type.ToDisplayString(ReadableFormat);

        /// <summary>The accessibility of what RayGen generates for a member: <c>public</c> for a public one, otherwise <c>internal</c>.</summary>
        private static string GeneratedAccessibility(ISymbol member)
            => member.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";

        private static string EscapeIdentifier(string name)
            => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        private static RemoteTargetResult Failure(DiagnosticInfo diagnostic)
            => new RemoteTargetResult(null, null, new[] { diagnostic }.ToImmutableEquatableArray());
    }
}
