using System.Text;

namespace Ray.Worker;

/// <summary>
/// The worker's stdout and stderr. The raylet forwards what a worker prints line by line, so a line must be whole
/// when it is written: each writer keeps what a task or actor call wrote since its last newline in that call's
/// <see cref="TaskContext"/>, writes complete lines at once, and ends a partial line when the call ends
/// (<see cref="EndOfCall"/>). Two calls printing at the same time never share a line. Code outside any call (a
/// thread the user started) shares one buffer.
/// </summary>
internal sealed class TaskOutput : TextWriter
{
    private static TaskOutput? s_out;
    private static TaskOutput? s_error;

    private readonly TextWriter _inner;
    private readonly int _stream;
    private readonly StringBuilder _outsideCalls = new();

    private TaskOutput(TextWriter inner, int stream)
    {
        _inner = inner;
        _stream = stream;
    }

    public override Encoding Encoding => _inner.Encoding;

    /// <summary>Replaces <see cref="Console.Out"/> and <see cref="Console.Error"/> of the worker process.</summary>
    public static void Install()
    {
        s_out = new TaskOutput(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true }, 0);
        s_error = new TaskOutput(new StreamWriter(Console.OpenStandardError()) { AutoFlush = true }, 1);
        Console.SetOut(s_out);
        Console.SetError(s_error);
    }

    /// <summary>Ends the partial lines a call left, so the next output starts on a line of its own.</summary>
    public static void EndOfCall(TaskContext context)
    {
        s_out?.FlushPartial(context.PartialLines[0]);
        s_error?.FlushPartial(context.PartialLines[1]);
    }

    public override void Write(char value) => Append(new ReadOnlySpan<char>(in value));

    public override void Write(char[] buffer, int index, int count) => Append(buffer.AsSpan(index, count));

    public override void Write(ReadOnlySpan<char> buffer) => Append(buffer);

    public override void Write(string? value) => Append(value.AsSpan());

    public override void WriteLine(string? value)
    {
        Append(value.AsSpan());
        Append(Environment.NewLine.AsSpan());
    }

    public override void WriteLine() => Append(Environment.NewLine.AsSpan());

    public override void Flush() => _inner.Flush();

    private StringBuilder Buffer()
    {
        if (TaskContext.Current is not { } context)
        {
            return _outsideCalls;
        }

        var lines = context.PartialLines;
        return lines[_stream] ?? Interlocked.CompareExchange(ref lines[_stream], new StringBuilder(), null) ?? lines[_stream]!;
    }

    private void Append(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var buffer = Buffer();
        string? complete = null;
        lock (buffer)
        {
            var newline = text.LastIndexOf('\n');
            if (newline < 0)
            {
                buffer.Append(text);
                return;
            }

            buffer.Append(text[..(newline + 1)]);
            complete = buffer.ToString();
            buffer.Clear();
            buffer.Append(text[(newline + 1)..]);
        }

        lock (_inner)
        {
            _inner.Write(complete);
        }
    }

    private void FlushPartial(StringBuilder? buffer)
    {
        if (buffer is null)
        {
            return;
        }

        string partial;
        lock (buffer)
        {
            if (buffer.Length == 0)
            {
                return;
            }

            partial = buffer.ToString();
            buffer.Clear();
        }

        lock (_inner)
        {
            _inner.WriteLine(partial);
        }
    }
}
