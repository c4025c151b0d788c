using Microsoft.CodeAnalysis;

namespace Ray.Generators
{
    /// <summary>The framework types the parser recognizes, looked up once per parsed declaration.</summary>
    internal sealed class KnownTypeSymbols
    {
        public KnownTypeSymbols(Compilation compilation)
        {
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
            ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        }

        public INamedTypeSymbol? CancellationToken { get; }

        public INamedTypeSymbol? Task { get; }

        public INamedTypeSymbol? TaskOfT { get; }

        public INamedTypeSymbol? ValueTask { get; }

        public INamedTypeSymbol? ValueTaskOfT { get; }

        public bool IsCancellationToken(ITypeSymbol type) => SymbolEqualityComparer.Default.Equals(type, CancellationToken);

        public bool IsNonGenericAwaitable(ITypeSymbol type)
            => SymbolEqualityComparer.Default.Equals(type, Task) || SymbolEqualityComparer.Default.Equals(type, ValueTask);

        public bool IsGenericAwaitable(ITypeSymbol type)
            => type is INamedTypeSymbol { IsGenericType: true } named
               && (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, TaskOfT)
                   || SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, ValueTaskOfT));
    }
}
