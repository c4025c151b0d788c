using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Ray.Generators.Analyzers
{
    /// <summary>
    /// The Ray, MemoryPack and framework types the analyzers recognize, looked up once per compilation.
    /// </summary>
    internal sealed class RaySymbols
    {
        private RaySymbols(Compilation compilation, INamedTypeSymbol remoteAttribute)
        {
            RemoteAttribute = remoteAttribute;
            ObjectRef = compilation.GetTypeByMetadataName("Ray.ObjectRef");
            ObjectRefOfT = compilation.GetTypeByMetadataName("Ray.ObjectRef`1");
            ObjectRefStream = compilation.GetTypeByMetadataName("Ray.ObjectRefStream`1");
            AsyncEnumerableOfT = compilation.GetTypeByMetadataName("System.Collections.Generic.IAsyncEnumerable`1");
            ActorHandle = compilation.GetTypeByMetadataName("Ray.ActorHandle`1");
            RayRuntime = compilation.GetTypeByMetadataName("Ray.RayRuntime");
            Arg = compilation.GetTypeByMetadataName("Ray.Arg`1");
            ArrayView = compilation.GetTypeByMetadataName("Ray.ArrayView`1");
            MemoryPackable = compilation.GetTypeByMetadataName("MemoryPack.MemoryPackableAttribute");
            MemoryPackableInterface = compilation.GetTypeByMetadataName("MemoryPack.IMemoryPackable`1");
            MemoryPackInclude = compilation.GetTypeByMetadataName("MemoryPack.MemoryPackIncludeAttribute");
            MemoryPackIgnore = compilation.GetTypeByMetadataName("MemoryPack.MemoryPackIgnoreAttribute");
            MemoryPackUnion = compilation.GetTypeByMetadataName("MemoryPack.MemoryPackUnionAttribute");
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
            ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
            GeneratedCode = compilation.GetTypeByMetadataName("System.CodeDom.Compiler.GeneratedCodeAttribute");
            Enumerable = compilation.GetSpecialType(SpecialType.System_Collections_IEnumerable);
            SerializableTypes = Lookup(compilation, KnownSerializableTypes.NonGeneric);
            SerializableGenericDefinitions = Lookup(compilation, KnownSerializableTypes.GenericDefinitions);
        }

        public INamedTypeSymbol RemoteAttribute { get; }

        public INamedTypeSymbol? ObjectRef { get; }

        public INamedTypeSymbol? ObjectRefOfT { get; }

        /// <summary><c>ObjectRefStream&lt;T&gt;</c>, what a streaming stub returns.</summary>
        public INamedTypeSymbol? ObjectRefStream { get; }

        /// <summary><c>IAsyncEnumerable&lt;T&gt;</c>, the result of a streaming method, whose items cross one by one.</summary>
        public INamedTypeSymbol? AsyncEnumerableOfT { get; }

        public INamedTypeSymbol? ActorHandle { get; }

        /// <summary>The runtime's entry point; null in a compilation that references only Ray.Abstractions.</summary>
        public INamedTypeSymbol? RayRuntime { get; }

        public INamedTypeSymbol? Arg { get; }

        public INamedTypeSymbol? ArrayView { get; }

        public INamedTypeSymbol? MemoryPackable { get; }

        public INamedTypeSymbol? MemoryPackableInterface { get; }

        public INamedTypeSymbol? MemoryPackInclude { get; }

        public INamedTypeSymbol? MemoryPackIgnore { get; }

        public INamedTypeSymbol? MemoryPackUnion { get; }

        public INamedTypeSymbol? CancellationToken { get; }

        public INamedTypeSymbol? Task { get; }

        public INamedTypeSymbol? TaskOfT { get; }

        public INamedTypeSymbol? ValueTask { get; }

        public INamedTypeSymbol? ValueTaskOfT { get; }

        public INamedTypeSymbol? GeneratedCode { get; }

        public INamedTypeSymbol Enumerable { get; }

        /// <summary>Framework types that MemoryPack has a built-in formatter for.</summary>
        public HashSet<INamedTypeSymbol> SerializableTypes { get; }

        /// <summary>Generic framework types (definitions) that MemoryPack serializes when their type arguments are serializable.</summary>
        public HashSet<INamedTypeSymbol> SerializableGenericDefinitions { get; }

        /// <summary>The symbols of <paramref name="compilation"/>, or null when it does not reference Ray.</summary>
        public static RaySymbols? Create(Compilation compilation)
            => compilation.GetTypeByMetadataName(RemoteGenerator.RemoteAttributeMetadataName) is { } remoteAttribute
                ? new RaySymbols(compilation, remoteAttribute)
                : null;

        public bool Is(ITypeSymbol? type, INamedTypeSymbol? known) => known is not null && SymbolEqualityComparer.Default.Equals(type, known);

        public bool IsDefinition(ITypeSymbol? type, INamedTypeSymbol? definition)
            => definition is not null && type is INamedTypeSymbol named && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, definition);

        /// <summary>Whether <paramref name="type"/> is <c>ObjectRef</c> or <c>ObjectRef&lt;T&gt;</c>.</summary>
        public bool IsObjectRef(ITypeSymbol? type) => Is(type, ObjectRef) || IsDefinition(type, ObjectRefOfT);

        public bool HasRemoteAttribute(ISymbol symbol) => HasAttribute(symbol, RemoteAttribute);

        /// <summary>Whether <paramref name="type"/> is a class marked <c>[Remote]</c>: an actor.</summary>
        public bool IsActorClass(INamedTypeSymbol? type) => type is { TypeKind: TypeKind.Class } && HasRemoteAttribute(type);

        /// <summary>
        /// Whether <paramref name="method"/> submits work: it returns a future and RayGen generated it (a task stub,
        /// an actor constructor stub or an actor method stub).
        /// </summary>
        public bool IsRemoteStub(IMethodSymbol method)
        {
            if (!IsObjectRef(method.ReturnType) && !IsDefinition(method.ReturnType, ActorHandle))
            {
                return false;
            }

            // An actor's factory, 'Counter.Remote(...)', is generated into the user's own partial class.
            if (method is { IsStatic: true, Name: "Remote" }
                && IsDefinition(method.ReturnType, ActorHandle)
                && SymbolEqualityComparer.Default.Equals(((INamedTypeSymbol)method.ReturnType).TypeArguments[0], method.ContainingType))
            {
                return true;
            }

            for (ISymbol? symbol = method; symbol is not null; symbol = symbol.ContainingType)
            {
                if (IsGeneratedByRay(symbol))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Whether <paramref name="method"/> submits a task: a stub that returns a future and is not an actor method's
        /// extension method, whose calls from one caller run one after another whatever the caller does.
        /// </summary>
        public bool IsTaskStub(IMethodSymbol method) => !method.IsExtensionMethod && IsObjectRef(method.ReturnType) && IsRemoteStub(method);

        private bool IsGeneratedByRay(ISymbol symbol)
        {
            foreach (var attribute in symbol.GetAttributes())
            {
                if (Is(attribute.AttributeClass, GeneratedCode)
                    && attribute.ConstructorArguments.Length > 0
                    && attribute.ConstructorArguments[0].Value is "Ray.Generators")
                {
                    return true;
                }
            }

            return false;
        }

        private static bool HasAttribute(ISymbol symbol, INamedTypeSymbol attribute)
        {
            foreach (var data in symbol.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute))
                {
                    return true;
                }
            }

            return false;
        }

        private static HashSet<INamedTypeSymbol> Lookup(Compilation compilation, IEnumerable<string> metadataNames)
            => new HashSet<INamedTypeSymbol>(
                metadataNames.Select(compilation.GetTypeByMetadataName).Where(type => type is not null)!,
                SymbolEqualityComparer.Default);
    }
}
