using System.Collections.Concurrent;
using Microsoft.CodeAnalysis;

namespace Ray.Generators.Analyzers
{
    /// <summary>
    /// Decides whether MemoryPack can serialize a type, and if not, which type inside it (a type argument, an
    /// array element, a tuple element, all the way down) is the reason. One instance per compilation caches its
    /// answers, since a thousand remote methods share a handful of parameter types.
    /// </summary>
    internal sealed class SerializabilityChecker
    {
        private readonly RaySymbols _symbols;
        private readonly ConcurrentDictionary<ITypeSymbol, Verdict> _cache = new(SymbolEqualityComparer.Default);

        public SerializabilityChecker(RaySymbols symbols) => _symbols = symbols;

        /// <summary>The innermost type that makes <paramref name="type"/> unserializable, or null when it is serializable.</summary>
        /// <remarks>
        /// Type parameters and types that do not bind are given the benefit of the doubt: the generator and the
        /// compiler already report those declarations.
        /// </remarks>
        public ITypeSymbol? FindOffender(ITypeSymbol type) => _cache.GetOrAdd(type, Check).Offender;

        private Verdict Check(ITypeSymbol type)
        {
            switch (type)
            {
                case ITypeParameterSymbol:
                case IErrorTypeSymbol:
                    return Verdict.Serializable;

                case IArrayTypeSymbol array:
                    // MemoryPack has formatters for arrays of up to four dimensions.
                    return array.Rank > 4 ? new Verdict(array) : new Verdict(FindOffender(array.ElementType));

                case INamedTypeSymbol named:
                    return new Verdict(CheckNamed(named));

                default:
                    // Pointers, function pointers, dynamic.
                    return new Verdict(type);
            }
        }

        private ITypeSymbol? CheckNamed(INamedTypeSymbol type)
        {
            if (type.TypeKind == TypeKind.Delegate || type.IsRefLikeType || type.SpecialType == SpecialType.System_Object)
            {
                return type;
            }

            if (type.TypeKind == TypeKind.Enum || IsPrimitive(type.SpecialType) || _symbols.SerializableTypes.Contains(type))
            {
                return null;
            }

            // A future or an actor handle crosses as an id; what it refers to is checked where it is produced.
            if (_symbols.IsObjectRef(type) || _symbols.IsDefinition(type, _symbols.ActorHandle))
            {
                return null;
            }

            if (type.IsTupleType)
            {
                foreach (var element in type.TupleElements)
                {
                    if (FindOffender(element.Type) is { } offender)
                    {
                        return offender;
                    }
                }

                return null;
            }

            if (_symbols.SerializableGenericDefinitions.Contains(type.OriginalDefinition) || IsMemoryPackable(type))
            {
                return FindOffenderInTypeArguments(type);
            }

            // MemoryPack copies an unmanaged struct's memory as it is.
            if (type.TypeKind == TypeKind.Struct && type.IsUnmanagedType)
            {
                return null;
            }

            return type;
        }

        private ITypeSymbol? FindOffenderInTypeArguments(INamedTypeSymbol type)
        {
            for (var current = type; current is not null; current = current.ContainingType)
            {
                foreach (var argument in current.TypeArguments)
                {
                    if (FindOffender(argument) is { } offender)
                    {
                        return offender;
                    }
                }
            }

            return null;
        }

        /// <summary>
        /// Whether the type has a MemoryPack formatter of its own: <c>[MemoryPackable]</c>, an implementation of
        /// <c>IMemoryPackable&lt;T&gt;</c> (what MemoryPack's generator and hand-written formatters add), or
        /// <c>[MemoryPackAllowSerialize]</c>.
        /// </summary>
        private bool IsMemoryPackable(INamedTypeSymbol type)
        {
            foreach (var attribute in type.GetAttributes())
            {
                if (attribute.AttributeClass is { } attributeClass
                    && (_symbols.Is(attributeClass, _symbols.MemoryPackable)
                        || (attributeClass.Name == "MemoryPackAllowSerializeAttribute" && attributeClass.ContainingNamespace?.Name == "MemoryPack")))
                {
                    return true;
                }
            }

            if (_symbols.MemoryPackableInterface is { } memoryPackable)
            {
                foreach (var implemented in type.AllInterfaces)
                {
                    if (SymbolEqualityComparer.Default.Equals(implemented.OriginalDefinition, memoryPackable))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private static bool IsPrimitive(SpecialType specialType)
        {
            switch (specialType)
            {
                case SpecialType.System_Boolean:
                case SpecialType.System_Char:
                case SpecialType.System_SByte:
                case SpecialType.System_Byte:
                case SpecialType.System_Int16:
                case SpecialType.System_UInt16:
                case SpecialType.System_Int32:
                case SpecialType.System_UInt32:
                case SpecialType.System_Int64:
                case SpecialType.System_UInt64:
                case SpecialType.System_Decimal:
                case SpecialType.System_Single:
                case SpecialType.System_Double:
                case SpecialType.System_String:
                case SpecialType.System_IntPtr:
                case SpecialType.System_UIntPtr:
                case SpecialType.System_DateTime:
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>A cached answer; a class so that a null offender can be cached too.</summary>
        private sealed class Verdict
        {
            public static readonly Verdict Serializable = new(null);

            public Verdict(ITypeSymbol? offender) => Offender = offender;

            public ITypeSymbol? Offender { get; }
        }
    }
}
