using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Ray.Logging;

namespace Ray.Transport;

/// <summary>
/// The secret every call inside a cluster carries (<c>authorization: Bearer …</c>). A cluster always has one:
/// <c>raygen start --head</c> generates it when none is given and writes it to a file only its user can read.
/// </summary>
/// <remarks>
/// The value never appears in <see cref="ToString"/>, exception messages or logs, so a token cannot leak through
/// an interpolated string or a stack trace in a bug report. Read <see cref="Value"/> only to put it on the wire.
/// </remarks>
internal sealed class ClusterToken
{
    /// <summary>The environment variable a driver, a node or the CLI reads the token from.</summary>
    public const string EnvironmentVariable = "RAYGEN_AUTH_TOKEN";

    /// <summary>Where the three ways of supplying a token are named, for the messages that ask for one.</summary>
    public const string HowToSupply =
        $"set {EnvironmentVariable} (or RayOptions.AuthToken), pass --auth-token, or read it from the token file that 'raygen start --head' wrote";

    /// <summary>The fewest characters a token may have: a shorter one is guessable (a generated token has 43).</summary>
    public const int MinLength = 32;

    /// <summary>The most characters a token may have, so that checking one never costs more than a small stack buffer.</summary>
    public const int MaxLength = 512;

    private const int GeneratedBytes = 32;

    // A token goes into an HTTP header as "Bearer <token>", so it keeps to RFC 6750's b64token characters;
    // generated tokens are URL-safe base64, which is a subset.
    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=");

    private readonly byte[] _utf8;

    private ClusterToken(string value)
    {
        Value = value;
        _utf8 = Encoding.ASCII.GetBytes(value);
    }

    /// <summary>The token itself: for the <c>authorization</c> header and the token file, nowhere else.</summary>
    public string Value { get; }

    /// <summary>The token file's default place, as Ray keeps <c>~/.ray/auth_token</c>: <c>~/.raygen/auth_token</c>.</summary>
    public static string DefaultFilePath =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".raygen", "auth_token");

    /// <summary>A new token: 32 bytes from the system's cryptographic generator, URL-safe base64 without padding.</summary>
    public static ClusterToken Generate()
    {
        Span<byte> random = stackalloc byte[GeneratedBytes];
        RandomNumberGenerator.Fill(random);
        return new ClusterToken(Convert.ToBase64String(random).TrimEnd('=').Replace('+', '-').Replace('/', '_'));
    }

    /// <summary>Takes a token given by a user (<c>--auth-token</c>, <see cref="EnvironmentVariable"/>, a file).</summary>
    /// <exception cref="RayException">The text is not a valid token; the message says why without repeating it.</exception>
    public static ClusterToken Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FormatProblem(text) is { } problem
            ? throw new RayException($"The cluster token from {source} is not valid: {problem}.")
            : new ClusterToken(text);
    }

    /// <summary>Why <paramref name="text"/> is not a valid token, or null when it is one.</summary>
    public static string? FormatProblem(ReadOnlySpan<char> text)
    {
        if (text.Length < MinLength)
        {
            return $"it has {text.Length} characters, and a token needs at least {MinLength} (let 'raygen start --head' generate one)";
        }

        if (text.Length > MaxLength)
        {
            return $"it has {text.Length} characters, more than the {MaxLength} a token may have";
        }

        return text.IndexOfAnyExcept(TokenCharacters) >= 0
            ? "it may hold only letters, digits and - . _ ~ + / ="
            : null;
    }

    /// <summary>
    /// The token a process should use: <paramref name="configured"/> (an option or <c>--auth-token</c>) first, then
    /// <see cref="EnvironmentVariable"/>, then the token file; null when none of them has one.
    /// </summary>
    public static ClusterToken? Resolve(string? configured, string tokenFile, ILogger logger)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return Parse(configured, "the configured auth token");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Parse(fromEnvironment, EnvironmentVariable);
        }

        return File.Exists(tokenFile) ? ReadFile(tokenFile, logger) : null;
    }

    /// <summary>
    /// Writes the token to <paramref name="path"/> so that only the current user can ever read it: the bytes go to a
    /// new file in the same folder that is created with mode 0600 (no window in which it has wider permissions), and a
    /// rename puts it in place at once, so a reader sees the old file or the whole new one, never a partial token.
    /// A missing folder is created with mode 0700.
    /// </summary>
    public void WriteFile(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw NoUnixPermissions();
        }

        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8))}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(_utf8);
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
            }

            // The umask may only have removed bits from 0600; set it exactly so the owner can always read it back.
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Reads a token file that <see cref="WriteFile"/> (or a user) wrote. A file that others may read still works,
    /// with a warning that says how to fix it: refusing it would stop a cluster whose files were copied carelessly,
    /// and the token in it is already as exposed as it will be.
    /// </summary>
    /// <exception cref="RayException">The file is missing, unreadable or holds no valid token.</exception>
    public static ClusterToken ReadFile(string path, ILogger logger)
    {
        if (OperatingSystem.IsWindows())
        {
            throw NoUnixPermissions();
        }

        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.ASCII);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RayException($"There is no token file at {path}: start the head with 'raygen start --head' on this machine, or {HowToSupply}.");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new RayException($"The token file {path} cannot be read ({e.Message}); it belongs to the user that started the head.");
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
        {
            logger.TokenFileTooOpen(path, Convert.ToString((int)mode, 8));
        }

        return Parse(text.TrimEnd('\r', '\n', ' ', '\t'), $"the token file {path}");
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is this token, in time that depends only on the lengths, so a caller
    /// cannot find the token one character at a time by timing refusals.
    /// </summary>
    public bool Matches(ReadOnlySpan<char> presented)
    {
        if (presented.Length != _utf8.Length)
        {
            // The length of a token is no secret (generated ones all have 43 characters).
            return false;
        }

        Span<byte> bytes = stackalloc byte[MaxLength];
        if (Encoding.ASCII.GetBytes(presented, bytes) != presented.Length)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(bytes[..presented.Length], _utf8);
    }

    // The token file's safety rests on Unix permissions; RayGen's nodes run on Linux (shared memory, Unix sockets).
    private static PlatformNotSupportedException NoUnixPermissions() =>
        new($"Token files rely on Unix file permissions; pass the token with --auth-token or {EnvironmentVariable} instead.");

    /// <summary>Never the token: a log line or message that formats one by mistake shows this.</summary>
    public override string ToString() => "ClusterToken(hidden)";
}
