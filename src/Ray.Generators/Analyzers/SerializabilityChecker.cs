using System.Collections.Concurrent;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Ray.Generators.Analyzers
{
    /// <summary>
    /// Decides whether MemoryPack can serialize a type, and if not, which type inside it (a type argument, an
    /// array element, a tuple element, all the way down) is the reason; and whether an <c>ArrayView&lt;T&gt;</c> hides
    /// inside it. One instance per compilation caches its answers, since a thousand remote methods share a handful
    /// of parameter types.
    /// </summary>
    internal sealed class SerializabilityChecker
    {
        private readonly RaySymbols _symbols;
        private readonly ConcurrentDictionary<ITypeSymbol, Verdict> _cache = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<ITypeSymbol, Verdict> _arrayViews = new(SymbolEqualityComparer.Default);

        public SerializabilityChecker(RaySymbols symbols) => _symbols = symbols;

        /// <summary>The innermost type that makes <paramref name="type"/> unserializable, or null when it is serializable.</summary>
        /// <remarks>
        /// Type parameters and types that do not bind are given the benefit of the doubt: the generator and the
        /// compiler already report those declarations.
        /// </remarks>
        public ITypeSymbol? FindOffender(ITypeSymbol type) => _cache.GetOrAdd(type, Check).Offender;

        /// <summary>
        /// The <c>ArrayView&lt;T&gt;</c> that <paramref name="type"/> is or holds (in a type argument, an array element,
        /// or a member that MemoryPack serializes of a <c>[MemoryPackable]</c> type or of one of its union cases), or null
        /// when it holds none.
        /// </summary>
        /// <remarks>
        /// A view is not data but a window on an object in the store of the process that opened it, so it cannot be
        /// sent anywhere; <see cref="FindOffender"/> does not look inside <c>[MemoryPackable]</c> types, which MemoryPack's
        /// own generator checks, but that generator does not know what a view is.
        /// </remarks>
        public ITypeSymbol? FindArrayView(ITypeSymbol type)
            => _arrayViews.GetOrAdd(type, root => new Verdict(SearchArrayView(root, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)))).Offender;

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

            // A future, a stream or an actor handle crosses as an id; what it refers to is checked where it is produced.
            if (_symbols.IsObjectRef(type) || _symbols.IsDefinition(type, _symbols.ObjectRefStream) || _symbols.IsDefinition(type, _symbols.ActorHandle))
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

        /// <summary>The walk behind <see cref="FindArrayView"/>.</summary>
        /// <remarks>
        /// <paramref name="visited"/> stops the walk of a type that holds itself; only the answer for the root is cached,
        /// since a type met again inside a cycle is answered for this walk only.
        /// </remarks>
        private ITypeSymbol? SearchArrayView(ITypeSymbol type, HashSet<ITypeSymbol> visited)
        {
            if (!visited.Add(type))
            {
                return null;
            }

            if (type is IArrayTypeSymbol array)
            {
                return SearchArrayView(array.ElementType, visited);
            }

            if (type is not INamedTypeSymbol named)
            {
                return null;
            }

            if (_symbols.IsDefinition(named, _symbols.ArrayView))
            {
                return named;
            }

            for (var current = named; current is not null; current = current.ContainingType)
            {
                foreach (var argument in current.TypeArguments)
                {
                    if (SearchArrayView(argument, visited) is { } view)
                    {
                        return view;
                    }
                }
            }

            if (!HasAttribute(named, _symbols.MemoryPackable))
            {
                return null;
            }

            foreach (var memberType in SerializedMemberTypes(named))
            {
                if (SearchArrayView(memberType, visited) is { } view)
                {
                    return view;
                }
            }

            return null;
        }

        /// <summary>
        /// The types of what MemoryPack's generator serializes for a <c>[MemoryPackable]</c> type: its public instance
        /// fields and properties (inherited ones too) and those marked <c>[MemoryPackInclude]</c>, less those marked
        /// <c>[MemoryPackIgnore]</c>; and the case types its <c>[MemoryPackUnion]</c> attributes name.
        /// </summary>
        private IEnumerable<ITypeSymbol> SerializedMemberTypes(INamedTypeSymbol type)
        {
            foreach (var attribute in type.GetAttributes())
            {
                if (_symbols.Is(attribute.AttributeClass, _symbols.MemoryPackUnion)
                    && attribute.ConstructorArguments is { Length: 2 } arguments
                    && arguments[1].Value is ITypeSymbol unionCase)
                {
                    yield return unionCase;
                }
            }

            for (var current = type; current is not null; current = current.BaseType)
            {
                foreach (var member in current.GetMembers())
                {
                    var memberType = member switch
                    {
                        IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false } field => field.Type,
                        IPropertySymbol { IsStatic: false, IsIndexer: false, GetMethod: not null } property => property.Type,
                        _ => null,
                    };
                    if (memberType is not null
                        && !HasAttribute(member, _symbols.MemoryPackIgnore)
                        && (member.DeclaredAccessibility == Accessibility.Public || HasAttribute(member, _symbols.MemoryPackInclude)))
                    {
                        yield return memberType;
                    }
                }
            }
        }

        private bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attribute)
        {
            if (attribute is null)
            {
                return false;
            }

            foreach (var data in symbol.GetAttributes())
            {
                if (_symbols.Is(data.AttributeClass, attribute))
                {
                    return true;
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
