using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Ray.Generators.Tests.Infrastructure;

/// <summary>
/// Walks an object graph through its fields, the way Orleans' generator tests check that pipeline outputs
/// keep no symbol, syntax or compilation alive.
/// </summary>
internal static class ObjectGraph
{
    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol),
        typeof(Compilation),
        typeof(SyntaxNode),
        typeof(SyntaxTree),
        typeof(SemanticModel),
        typeof(Location),
    };

    /// <summary>The paths (from <paramref name="root"/>) of every object of a forbidden type.</summary>
    public static List<string> FindRoslynObjects(object? root, string rootName)
    {
        var found = new List<string>();
        Walk(root, rootName, new HashSet<object>(ReferenceEqualityComparer.Instance), found);
        return found;
    }

    private static void Walk(object? value, string path, HashSet<object> visited, List<string> found)
    {
        if (value is null || value is string || value is Type || value.GetType().IsPrimitive || value.GetType().IsEnum || value is Delegate)
        {
            return;
        }

        var type = value.GetType();
        if (Forbidden.Any(forbidden => forbidden.IsAssignableFrom(type)))
        {
            found.Add($"{path}: {type.FullName}");
            return;
        }

        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is IEnumerable sequence && value is not DiagnosticDescriptor)
        {
            var i = 0;
            foreach (var item in sequence)
            {
                Walk(item, $"{path}[{i++}]", visited, found);
            }
        }

        for (var current = type; current is not null && current != typeof(object); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                Walk(field.GetValue(value), $"{path}.{field.Name}", visited, found);
            }
        }
    }
}
