using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ray.Transport;

/// <summary>
/// Tells the protocols that share a listener apart by a connection's first bytes: a protocol of this project opens
/// with a magic line (<c>RAYGEN-OBJECTS/1</c>, <c>RAYGEN-RAYLET/1</c>), an HTTP/2 client with its preface
/// (<c>PRI * HTTP/2.0</c>), so the first byte that differs decides.
/// </summary>
internal static class ConnectionOpening
{
    /// <summary>
    /// Puts a protocol in front of what else <paramref name="listen"/> serves: a connection that opens with
    /// <paramref name="magic"/> within <paramref name="openingTimeout"/> is served by <paramref name="serve"/> (given a
    /// token that fires when the opening's time is up, for whatever else the opening holds); any other goes on, unread,
    /// to the next protocol; one that sends nothing in time, or closes, is dropped.
    /// </summary>
    public static void Use(ListenOptions listen, ReadOnlyMemory<byte> magic, TimeSpan openingTimeout, Func<ConnectionContext, CancellationToken, Task> serve) =>
        listen.Use(next => async connection =>
        {
            using var opening = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
            opening.CancelAfter(openingTimeout);
            bool recognized;
            try
            {
                recognized = await RecognizeAsync(connection.Transport.Input, magic, opening.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                return;
            }

            await (recognized ? serve(connection, opening.Token) : next(connection)).ConfigureAwait(false);
        });

    /// <summary>Whether <paramref name="buffer"/>, the first bytes of a connection, open with <paramref name="magic"/>; null while a prefix of it.</summary>
    public static bool? Recognize(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> magic)
    {
        Span<byte> start = stackalloc byte[magic.Length];
        var length = (int)Math.Min(buffer.Length, magic.Length);
        buffer.Slice(0, length).CopyTo(start);
        if (!start[..length].SequenceEqual(magic[..length]))
        {
            return false;
        }

        return length == magic.Length ? true : null;
    }

    /// <summary>
    /// Reads until the first bytes decide: true with <paramref name="magic"/> consumed, or false with nothing consumed,
    /// so the next protocol on the listener reads the same bytes from the start.
    /// </summary>
    public static async Task<bool> RecognizeAsync(PipeReader input, ReadOnlyMemory<byte> magic, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var opened = Recognize(buffer, magic.Span);
            if (opened == true)
            {
                input.AdvanceTo(buffer.GetPosition(magic.Length));
                return true;
            }

            if (opened == false || result.IsCompleted)
            {
                input.AdvanceTo(buffer.Start);
                return false;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
