using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Ray.Generators.Helpers;
using Ray.Generators.Model;

namespace Ray.Generators
{
    /// <summary>The parser's half for <c>[Remote]</c> classes: actors.</summary>
    internal static partial class Parser
    {
        /// <summary>The class RayGen nests in an actor class for its descriptors and worker registration.</summary>
        internal const string ActorRegistrationClass = "__RayActor";

        /// <summary>The struct that <c>WithOptions</c> returns, nested in the actor class.</summary>
        internal const string ActorConfiguredStruct = "ActorConfigured";

        // The members RayGen adds to an actor class; a member of the class with one of these names would clash.
        private static readonly string[] GeneratedActorMembers = { "Remote", "WithOptions", ActorConfiguredStruct, ActorRegistrationClass };

        // ActorHandle<T>'s public members, for a compilation where Ray.ActorHandle`1 cannot be found.
        private static readonly string[] DefaultHandleMembers = { "Create", "Equals", "GetHashCode", "GetType", "Id", "ToString" };

        /// <summary>
        /// Parses a <c>[Remote]</c> class. A problem with the class itself (not partial, abstract, no accessible
        /// constructor, ...) means nothing is generated; a problem with one constructor or method drops only that one.
        /// </summary>
        private static RemoteTargetResult ParseActor(
            INamedTypeSymbol type,
            GeneratorAttributeSyntaxContext context,
            INamedTypeSymbol remoteAttribute,
            CancellationToken cancellationToken)
        {
            var identifier = context.TargetNode is TypeDeclarationSyntax declaration
                ? declaration.Identifier.GetLocation()
                : type.Locations.FirstOrDefault();
            var compilation = context.SemanticModel.Compilation;
            var diagnostics = new List<DiagnosticInfo>();

            CheckContainingTypes(type, isActor: true, diagnostics, cancellationToken);
            var constructors = type.InstanceConstructors
                .Where(IsFactoryConstructor)
                .OrderBy(ReadableName, StringComparer.Ordinal)
                .ToList();
            var extensionsClassName = string.Join("_", Nesting(type).Select(current => current.Name)) + "ActorExtensions";
            if (DescribeInvalidActorClass(type, constructors.Count > 0, extensionsClassName) is { } reason)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidActorClass, identifier, Readable(type), reason));
            }

            CheckGeneratedActorMemberNames(type, diagnostics);
            if (diagnostics.Count > 0)
            {
                return new RemoteTargetResult(null, null, diagnostics.ToImmutableEquatableArray());
            }

            CheckActorClassOptions(context.Attributes[0], type, diagnostics, cancellationToken);
            var known = new KnownTypeSymbols(compilation);
            var constructorSpecs = ParseActorConstructors(constructors, remoteAttribute, compilation, known, diagnostics, cancellationToken);
            var methodSpecs = ParseActorMethods(type, remoteAttribute, compilation, known, diagnostics, cancellationToken);
            var actorOptions = compilation.GetTypeByMetadataName("Ray.ActorOptions");
            var spec = new ActorSpec(
                CreateHierarchy(type, remoteAttribute, compilation),
                type.GetDocumentationCommentId() ?? string.Empty,
                extensionsClassName,
                Nesting(type).All(current => current.DeclaredAccessibility == Accessibility.Public) ? "public" : "internal",
                ParseActorOptions(context.Attributes[0]),
                FormatObsoleteAttribute(type),
                HidesInherited(
                    type,
                    "WithOptions",
                    method => method.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, actorOptions),
                    baseType => IsActorClass(baseType, remoteAttribute),
                    compilation),
                HidesInherited(type, ActorConfiguredStruct, static _ => true, baseType => IsActorClass(baseType, remoteAttribute), compilation),
                HidesInherited(type, ActorRegistrationClass, static _ => true, baseType => IsActorClass(baseType, remoteAttribute), compilation),
                constructorSpecs,
                methodSpecs);
            return new RemoteTargetResult(null, spec, diagnostics.ToImmutableEquatableArray());
        }

        /// <summary>
        /// The constructors that get a factory. Each is checked on its own first; only those that pass can collide
        /// with each other, since the others get no factory.
        /// </summary>
        private static ImmutableEquatableArray<ActorConstructorSpec> ParseActorConstructors(
            List<IMethodSymbol> constructors,
            INamedTypeSymbol remoteAttribute,
            Compilation compilation,
            KnownTypeSymbols known,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var valid = new List<IMethodSymbol>();
            foreach (var constructor in constructors)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (CheckActorConstructor(constructor, known, diagnostics, cancellationToken))
                {
                    valid.Add(constructor);
                }
            }

            var specs = new List<ActorConstructorSpec>();
            foreach (var constructor in valid)
            {
                if (valid.FirstOrDefault(other => !SymbolEqualityComparer.Default.Equals(other, constructor)
                                                  && HaveSameStubParameters(constructor, other, known)) is { } other)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.CannotGenerate,
                        constructor.Locations.FirstOrDefault(),
                        $"actor constructor '{ConstructorDisplayName(constructor)}'",
                        $"its 'Remote(...)' factory would take the same parameters as the factory of '{ConstructorDisplayName(other)}' ({DescribeStubParameters(constructor, other, "a factory", known)}); remove or change one of them"));
                    continue;
                }

                specs.Add(CreateActorConstructorSpec(constructor, remoteAttribute, compilation, known));
            }

            return specs.ToImmutableEquatableArray();
        }

        /// <summary>
        /// The methods that get an extension method on the handle, in a stable order. Each is checked on its own
        /// first; only those that pass can collide with each other.
        /// </summary>
        private static ImmutableEquatableArray<MethodSpec> ParseActorMethods(
            INamedTypeSymbol type,
            INamedTypeSymbol remoteAttribute,
            Compilation compilation,
            KnownTypeSymbols known,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var handleMembers = HandleMemberNames(compilation);
            var valid = new List<IMethodSymbol>();
            foreach (var method in ActorMethodCandidates(type).OrderBy(method => method.Name, StringComparer.Ordinal).ThenBy(ReadableName, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (CheckActorMethod(method, handleMembers, known, diagnostics, cancellationToken))
                {
                    valid.Add(method);
                }
            }

            var specs = new List<MethodSpec>();
            foreach (var method in valid)
            {
                if (valid.FirstOrDefault(other => other.Name == method.Name
                                                  && !SymbolEqualityComparer.Default.Equals(other, method)
                                                  && HaveSameStubParameters(method, other, known)) is { } other)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.CannotGenerate,
                        method.Locations.FirstOrDefault(),
                        $"actor method '{ReadableName(method)}'",
                        $"its extension method on the handle would take the same parameters as the one of '{ReadableName(other)}' ({DescribeStubParameters(method, other, "it", known)}); rename one of them"));
                    continue;
                }

                specs.Add(CreateMethod(method, known, RemoteAttributeOf(method, remoteAttribute)));
            }

            return specs.ToImmutableEquatableArray();
        }

        /// <summary>The reason <paramref name="type"/> cannot be an actor, or null when it can.</summary>
        private static string? DescribeInvalidActorClass(INamedTypeSymbol type, bool hasFactoryConstructor, string extensionsClassName)
        {
            if (type.IsStatic)
            {
                return "it is static, but an actor is an instance that lives in a worker; remove 'static', or remove [Remote] from the class and mark its static methods [Remote] to make them tasks";
            }

            if (type.IsAbstract)
            {
                return "it is abstract, but a worker must create an instance of it; remove 'abstract', or mark a non-abstract derived class with [Remote] instead";
            }

            if (type.TypeParameters.Length > 0)
            {
                return "it is generic, but a worker must know the exact class to create; remove its type parameters, for example by marking a non-generic derived class with [Remote] instead";
            }

            if (Nesting(type).FirstOrDefault(current => current.TypeParameters.Length > 0) is { } generic)
            {
                return $"it is nested in the generic type '{Readable(generic)}', so a worker cannot know the exact class to create; move it out of that type";
            }

            if (IsObsoleteError(type))
            {
                return "it is marked [Obsolete] as an error, so the generated factories and worker registration cannot use it; remove [Remote] or the error flag";
            }

            if (!hasFactoryConstructor)
            {
                return "it has no public or internal constructor, so no 'Remote(...)' factory can create it; make a constructor public or internal";
            }

            if (type.ContainingNamespace.GetTypeMembers(extensionsClassName).Length > 0)
            {
                return $"its namespace already has a type named '{extensionsClassName}', the name of the class RayGen generates for the calls through its handle; rename that type";
            }

            return null;
        }

        /// <summary>Reports members of the actor class whose names RayGen needs for the members it adds.</summary>
        private static void CheckGeneratedActorMemberNames(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics)
        {
            foreach (var name in GeneratedActorMembers)
            {
                foreach (var member in type.GetMembers(name).Where(member => !member.IsImplicitlyDeclared))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidActorClass,
                        member.Locations.FirstOrDefault(),
                        Readable(type),
                        $"it declares a member named '{name}', a name RayGen needs for the members it adds to an actor class; rename that member"));
                }
            }
        }

        /// <summary>Whether <paramref name="constructor"/> gets a <c>Remote(...)</c> factory: public, internal or protected internal.</summary>
        private static bool IsFactoryConstructor(IMethodSymbol constructor)
            => constructor.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

        /// <summary>
        /// The public instance methods the class declares that callers reach through its handle: not property
        /// accessors, operators or overrides of <see cref="object"/>'s members, not what the compiler declares for a
        /// record, and not a record's <c>Equals(T)</c> or a <c>Deconstruct</c> method, which are language patterns
        /// rather than operations.
        /// </summary>
        private static IEnumerable<IMethodSymbol> ActorMethodCandidates(INamedTypeSymbol type)
            => type.GetMembers()
                .OfType<IMethodSymbol>()
                .Where(method => method is { MethodKind: MethodKind.Ordinary, IsStatic: false, DeclaredAccessibility: Accessibility.Public, IsImplicitlyDeclared: false }
                                 && !OverridesObjectMember(method)
                                 && !IsRecordEquals(type, method)
                                 && !IsDeconstruct(method));

        private static bool OverridesObjectMember(IMethodSymbol method)
        {
            if (!method.IsOverride)
            {
                return false;
            }

            var root = method;
            while (root.OverriddenMethod is { } overridden)
            {
                root = overridden;
            }

            return root.ContainingType.SpecialType == SpecialType.System_Object;
        }

        private static bool IsRecordEquals(INamedTypeSymbol type, IMethodSymbol method)
            => type.IsRecord
               && method.Name == "Equals"
               && method.Parameters.Length == 1
               && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, type);

        private static bool IsDeconstruct(IMethodSymbol method)
            => method.Name == "Deconstruct"
               && method.ReturnsVoid
               && method.Parameters.Length > 0
               && method.Parameters.All(parameter => parameter.RefKind == RefKind.Out);

        /// <summary>Checks one constructor; false when it gets no factory, with the reason in <paramref name="diagnostics"/>.</summary>
        private static bool CheckActorConstructor(
            IMethodSymbol constructor,
            KnownTypeSymbols known,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var member = $"actor constructor '{ConstructorDisplayName(constructor)}'";
            var count = diagnostics.Count;
            CheckParameters(constructor, member, known, diagnostics, cancellationToken);
            if (DescribeUncallable(constructor, "remove the error flag, or make the constructor private") is { } problem)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CannotGenerate, constructor.Locations.FirstOrDefault(), member, problem));
            }

            return diagnostics.Count == count;
        }

        /// <summary>Checks one method; false when it gets no extension method, with the reason in <paramref name="diagnostics"/>.</summary>
        private static bool CheckActorMethod(
            IMethodSymbol method,
            HashSet<string> handleMembers,
            KnownTypeSymbols known,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var name = ReadableName(method);
            var location = method.Locations.FirstOrDefault();
            if (method.TypeParameters.Length > 0)
            {
                diagnostics.Add(GenericMethod(location, $"Actor method '{name}'"));
                return false;
            }

            if (handleMembers.Contains(method.Name))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ActorMethodHiddenByHandle, location, name, method.Name, Readable(method.ContainingType)));
                return false;
            }

            var member = $"actor method '{name}'";
            var count = diagnostics.Count;
            CheckReturnType(method, method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken), member, location, diagnostics);
            CheckParameters(method, member, known, diagnostics, cancellationToken);
            if (DescribeUncallable(method, "remove the error flag, or make the method non-public") is { } problem)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CannotGenerate, location, member, problem));
            }

            return diagnostics.Count == count;
        }

        private static ActorConstructorSpec CreateActorConstructorSpec(
            IMethodSymbol constructor,
            INamedTypeSymbol remoteAttribute,
            Compilation compilation,
            KnownTypeSymbols known)
        {
            var readableName = ReadableName(constructor);
            var signature = FactorySignature(constructor, known);
            return new ActorConstructorSpec(
                GeneratedAccessibility(constructor),
                readableName,
                FunctionId.Compute(readableName),
                constructor.IsImplicitlyDeclared ? null : constructor.GetDocumentationCommentId(),
                CreateParameters(constructor, known),
                FormatObsoleteAttribute(constructor),
                HidesInherited(
                    constructor.ContainingType,
                    "Remote",
                    method => FormatSignature(method.Parameters.Select(parameter => parameter.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat))) == signature,
                    baseType => (IsActorClass(baseType, remoteAttribute)
                                 && baseType.InstanceConstructors.Any(other => IsFactoryConstructor(other) && FactorySignature(other, known) == signature))
                                || HasRemoteMethods(baseType, remoteAttribute),
                    compilation));
        }

        private static ActorOptionsSpec ParseActorOptions(AttributeData attribute)
            => attribute.NamedArguments.Aggregate(ActorOptionsSpec.None, static (options, argument) => (argument.Key, argument.Value.Value) switch
            {
                ("NumCpus", double value) => options with { NumCpus = value },
                ("MaxRestarts", int value) => options with { MaxRestarts = value },
                ("MaxTaskRetries", int value) => options with { MaxTaskRetries = value },
                ("MaxConcurrency", int value) => options with { MaxConcurrency = value },
                ("DedicatedProcess", bool value) => options with { DedicatedProcess = value },
                _ => options,
            });

        /// <summary>
        /// The names of <c>ActorHandle&lt;T&gt;</c>'s public members, its base types' included: a call written like one
        /// of them binds to the handle, never to a generated extension method.
        /// </summary>
        private static HashSet<string> HandleMemberNames(Compilation compilation)
        {
            var handle = compilation.GetTypeByMetadataName("Ray.ActorHandle`1");
            if (handle is null)
            {
                return new HashSet<string>(DefaultHandleMembers, StringComparer.Ordinal);
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var type = handle; type is not null; type = type.BaseType)
            {
                foreach (var member in type.GetMembers())
                {
                    if (member.DeclaredAccessibility == Accessibility.Public
                        && member.CanBeReferencedByName
                        && member is IMethodSymbol { MethodKind: MethodKind.Ordinary } or IPropertySymbol or IFieldSymbol or IEventSymbol)
                    {
                        names.Add(member.Name);
                    }
                }
            }

            return names;
        }

        /// <summary>The parameter types of the <c>Remote(...)</c> factory of <paramref name="constructor"/>, as one string.</summary>
        private static string FactorySignature(IMethodSymbol constructor, KnownTypeSymbols known)
            => FormatSignature(constructor.Parameters
                .Where(parameter => !known.IsCancellationToken(parameter.Type))
                .Select(parameter =>
                {
                    var type = known.StubArgumentType(parameter.Type).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                    return parameter.IsParams ? type
                        : parameter.IsOptional ? $"global::Ray.Arg<{type}>?"
                        : $"global::Ray.Arg<{type}>";
                }));

        private static string FormatSignature(IEnumerable<string> parameterTypes) => string.Join(", ", parameterTypes);

        /// <summary>A constructor as C# declares it, for messages: <c>MyApp.Counter(int)</c>.</summary>
        private static string ConstructorDisplayName(IMethodSymbol constructor)
            => $"{Readable(constructor.ContainingType)}({string.Join(", ", constructor.Parameters.Select(parameter => parameter.Type.ToDisplayString(ReadableFormat)))})";
    }
}
