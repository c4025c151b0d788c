using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Ray;

namespace RayGen.Samples;

/// <summary>
/// The seed's <c>MessageActor</c>, written with a stream: instead of the driver asking it again and again for what came
/// in (<c>get_and_clear_messages</c>), it streams each message to its reader as it arrives. Its calls may run four at a
/// time, so new messages are taken while a stream is being read; calls that run at once run in either order, so two
/// messages of one worker may arrive swapped, as with Ray's async actors.
/// </summary>
[Remote(MaxConcurrency = 4)]
public partial class MessageStreamActor
{
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();

    /// <summary>The seed's <c>add_message</c>.</summary>
    public void AddMessage(string message) => _messages.Writer.TryWrite(message);

    /// <summary>The next <paramref name="count"/> messages, each as soon as it arrives.</summary>
    public async IAsyncEnumerable<string> Listen(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            yield return await _messages.Reader.ReadAsync(cancellationToken);
        }
    }
}

/// <summary>
/// Seed IV.I "Actor Handles", streamed: three worker tasks push messages to one actor through a handle they received as
/// an argument, and the driver reads the actor's stream of messages instead of polling it.
/// </summary>
public static partial class MessageStreamSample
{
    public const string Name = "message-stream";

    /// <summary>The seed's <c>worker(message_actor, j)</c>, as in <see cref="MessageActorSample.Worker"/>.</summary>
    [Remote(NumCpus = 0.5)]
    public static void Worker(ActorHandle<MessageStreamActor> messageActor, int j, int count, int intervalMs)
    {
        for (var i = 0; i < count; i++)
        {
            Thread.Sleep(intervalMs);
            messageActor.AddMessage($"Message {i} from worker {j}.");
        }
    }

    /// <summary>Runs the sample; returns every message the driver received, in the order it received them.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="messagesPerWorker">Messages each worker sends: 5 here, the seed sends 100.</param>
    /// <param name="interval">Time between messages: 0.2 s here, the seed uses 1 s.</param>
    public static async Task<IReadOnlyList<string>> RunAsync(TextWriter output, int messagesPerWorker = 5, TimeSpan? interval = null)
    {
        var intervalMs = (int)(interval ?? TimeSpan.FromMilliseconds(200)).TotalMilliseconds;
        output.WriteLine($"3 workers x {messagesPerWorker} messages, one every {NodeInfo.Seconds(TimeSpan.FromMilliseconds(intervalMs))}, read as a stream.");

        var messageActor = MessageStreamActor.Remote();
        var workers = Enumerable.Range(0, 3).Select(j => Remote.Worker(messageActor, j, messagesPerWorker, intervalMs)).ToList();

        // Each message as it arrives; the stream ends after the last one. No polling, no sleeping in the driver.
        var received = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await foreach (var message in messageActor.Listen(3 * messagesPerWorker).ReadAllAsync(timeout.Token))
        {
            output.WriteLine($"New message: '{message}'");
            received.Add(message);
        }

        foreach (var worker in workers)
        {
            await worker;
        }

        RayRuntime.Current.Kill(messageActor);
        return received;
    }
}
