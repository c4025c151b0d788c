using System.Text;
using Google.Protobuf;
using Ray.Core;
using Ray.Runtime.Protocol;

namespace Ray.Replay;

/// <summary>
/// A failed call written to a file for <c>raygen replay FILE</c>: the <see cref="FailedCallRecord"/> as JSON (protobuf's
/// JSON mapping, so arguments are base64), one file per failure, written whole under a temporary name and then renamed,
/// so a reader never sees half a file.
/// </summary>
internal static class FailedCallFile
{
    /// <summary>The layout this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>How capture files end.</summary>
    public const string Extension = ".raygen-replay.json";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes <paramref name="record"/> into <paramref name="directory"/> (made if missing); returns the file's path.</summary>
    public static async Task<string> WriteAsync(string directory, FailedCallRecord record, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName(record));
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, Formatter.Format(record), Utf8, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>Reads a capture file.</summary>
    /// <exception cref="InvalidDataException">The file is not a capture file of a layout this build reads.</exception>
    public static FailedCallRecord Read(string path)
    {
        FailedCallRecord record;
        try
        {
            record = Parser.Parse<FailedCallRecord>(File.ReadAllText(path, Utf8));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path} is not a RayGen capture file: {e.Message}", e);
        }
        catch (InvalidJsonException e)
        {
            throw new InvalidDataException($"{path} is not a RayGen capture file: {e.Message}", e);
        }

        if (record.FormatVersion != FormatVersion)
        {
            throw new InvalidDataException(
                $"{path} is a capture file of layout {record.FormatVersion}; this build of RayGen reads layout {FormatVersion}.");
        }

        if (record.FunctionName.Length == 0 || record.AssemblyName.Length == 0)
        {
            throw new InvalidDataException($"{path} names no function to replay.");
        }

        return record;
    }

    /// <summary>When it failed, the function (without namespace or parameters) and the call's id: sortable and unique.</summary>
    private static string FileName(FailedCallRecord record)
    {
        var name = record.FunctionName;
        var parameters = name.IndexOf('(', StringComparison.Ordinal);
        if (parameters >= 0)
        {
            name = name[..parameters];
        }

        var lastDot = name.LastIndexOf('.');
        var secondLastDot = lastDot > 0 ? name.LastIndexOf('.', lastDot - 1) : -1;
        name = name[(secondLastDot + 1)..];
        var safe = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        var failedAt = DateTimeOffset.FromUnixTimeMilliseconds(record.FailedAtUnixMs).UtcDateTime;
        var id = record.TaskId.ToObjectId();
        return $"{failedAt:yyyyMMdd-HHmmss}-{safe}-{id}{Extension}";
    }
}
