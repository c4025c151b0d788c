using System.Security.Cryptography;
using System.Text;

namespace Ray.Packages;

/// <summary>One file of a package as its identity sees it: where it lies in the package, its size and its content hash.</summary>
/// <param name="Path">The path relative to the package root, segments separated by <c>/</c>.</param>
/// <param name="Length">The size in bytes.</param>
/// <param name="Sha256">The SHA-256 of the content, lowercase hex.</param>
internal readonly record struct ManifestEntry(string Path, long Length, string Sha256);

/// <summary>
/// The identity of a package, shared by the side that builds it, the store that verifies it and the node that
/// extracts it: the id is the lowercase hex SHA-256 of a canonical manifest, and a relative path is valid only when
/// it cannot point outside the package directory.
/// </summary>
/// <remarks>
/// The manifest is UTF-8 text: the line <c>raygen-package-v1</c>, then one line <c>{sha256} {length} {path}</c> per
/// file, sorted by ordinal comparison of the paths, each line ended by <c>\n</c>. The id depends on the content alone,
/// not on the zip's bytes (compression, timestamps, entry order), so any zip of the same files verifies; the version
/// line changes the id of every package should the definition ever change. Paths hold no control characters, so a
/// line cannot be forged by a file name.
/// </remarks>
internal static class PackageManifest
{
    private const string Header = "raygen-package-v1\n";

    /// <summary>The SHA-256 of no bytes, the content hash of every empty file.</summary>
    public static readonly string EmptySha256 = Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty));

    /// <summary>Computes the package id of <paramref name="entries"/>, in any order.</summary>
    public static string ComputeId(IEnumerable<ManifestEntry> entries)
    {
        var manifest = new StringBuilder(Header);
        foreach (var entry in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            manifest.Append(entry.Sha256).Append(' ').Append(entry.Length).Append(' ').Append(entry.Path).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest.ToString())));
    }

    /// <summary>Whether <paramref name="id"/> has the form of a package id: 64 lowercase hex digits.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: 64 } && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>
    /// Refuses anything that is not a package id before it becomes part of a file name: an id travels over the
    /// network, and <c>../</c> in one would reach outside the store's or the cache's directory.
    /// </summary>
    /// <exception cref="InvalidPackageException"><paramref name="id"/> is not 64 lowercase hex digits.</exception>
    public static void ThrowIfInvalidId(string? id)
    {
        if (!IsValidId(id))
        {
            throw new InvalidPackageException($"'{id}' is not a package id: a package id is 64 lowercase hex digits (a SHA-256).");
        }
    }

    /// <summary>
    /// Why <paramref name="path"/> cannot be a file's path in a package, or <see langword="null"/> when it can: relative,
    /// <c>/</c>-separated, no empty, <c>.</c> or <c>..</c> segment (so that it never escapes the directory it is
    /// extracted into), no backslash (a separator on Windows nodes) and no control character (it would break the
    /// manifest's lines).
    /// </summary>
    public static string? CheckPath(string path)
    {
        if (path.Length == 0)
        {
            return "is empty";
        }

        if (path[0] == '/')
        {
            return "is absolute";
        }

        if (path.Contains('\\'))
        {
            return "contains a backslash";
        }

        if (path.Any(char.IsControl))
        {
            return "contains a control character";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return "has an empty, '.' or '..' segment";
            }
        }

        return null;
    }
}
