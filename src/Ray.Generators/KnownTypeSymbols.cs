using Microsoft.CodeAnalysis;

namespace Ray.Generators
{
    /// <summary>The framework and Ray types the parser recognizes, looked up once per parsed declaration.</summary>
    internal sealed class KnownTypeSymbols
    {
        private readonly Compilation _compilation;

        public KnownTypeSymbols(Compilation compilation)
        {
            _compilation = compilation;
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
            ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
            ArrayView = compilation.GetTypeByMetadataName("Ray.ArrayView`1");
            AsyncEnumerableOfT = compilation.GetTypeByMetadataName("System.Collections.Generic.IAsyncEnumerable`1");
            EnumerableOfT = compilation.GetSpecialType(SpecialType.System_Collections_Generic_IEnumerable_T);
        }

        public INamedTypeSymbol? CancellationToken { get; }

        public INamedTypeSymbol? Task { get; }

        public INamedTypeSymbol? TaskOfT { get; }

        public INamedTypeSymbol? ValueTask { get; }

        public INamedTypeSymbol? ValueTaskOfT { get; }

        public INamedTypeSymbol? ArrayView { get; }

        public INamedTypeSymbol? AsyncEnumerableOfT { get; }

        public INamedTypeSymbol? EnumerableOfT { get; }

        /// <summary>
        /// The item type of a streaming method's result: the <c>T</c> of <c>IAsyncEnumerable&lt;T&gt;</c>, or of
        /// <c>IEnumerable&lt;T&gt;</c> when <paramref name="streaming"/> (<c>[Remote(Streaming = true)]</c>); null otherwise.
        /// </summary>
        public ITypeSymbol? StreamItemType(ITypeSymbol type, bool streaming)
            => type is INamedTypeSymbol { IsGenericType: true } named
               && (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, AsyncEnumerableOfT)
                   || (streaming && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, EnumerableOfT)))
                ? named.TypeArguments[0]
                : null;

        public bool IsCancellationToken(ITypeSymbol type) => SymbolEqualityComparer.Default.Equals(type, CancellationToken);

        public bool IsNonGenericAwaitable(ITypeSymbol type)
            => SymbolEqualityComparer.Default.Equals(type, Task) || SymbolEqualityComparer.Default.Equals(type, ValueTask);

        public bool IsGenericAwaitable(ITypeSymbol type)
            => type is INamedTypeSymbol { IsGenericType: true } named
               && (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, TaskOfT)
                   || SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, ValueTaskOfT));

        /// <summary>The <c>E</c> of <c>ArrayView&lt;E&gt;</c>, or null when <paramref name="type"/> is not an array view.</summary>
        public ITypeSymbol? ArrayViewElementType(ITypeSymbol type)
            => type is INamedTypeSymbol { IsGenericType: true } named && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, ArrayView)
                ? named.TypeArguments[0]
                : null;

        /// <summary>
        /// The <c>T</c> of the <c>Arg&lt;T&gt;</c> that a stub takes for a parameter of <paramref name="type"/>: <c>E[]</c>
        /// for <c>ArrayView&lt;E&gt;</c>, the type itself otherwise.
        /// </summary>
        public ITypeSymbol StubArgumentType(ITypeSymbol type)
            => ArrayViewElementType(type) is { } element ? _compilation.CreateArrayTypeSymbol(element) : type;
    }
}
