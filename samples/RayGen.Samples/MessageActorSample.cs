using System.Diagnostics;
using Ray;

namespace RayGen.Samples;

/// <summary>The seed's <c>MessageActor</c>: stores messages until someone drains them.</summary>
[Remote]
public partial class MessageActor
{
    private List<string> _messages = [];

    /// <summary>The seed's <c>add_message</c>.</summary>
    public void AddMessage(string message) => _messages.Add(message);

    /// <summary>The seed's <c>get_and_clear_messages</c>.</summary>
    public List<string> GetAndClearMessages()
    {
        var messages = _messages;
        _messages = [];
        return messages;
    }
}

/// <summary>
/// Seed IV.I "Actor Handles": three worker tasks push messages to one actor through a handle they received
/// as an argument, and the driver drains the actor periodically.
/// </summary>
public static partial class MessageActorSample
{
    public const string Name = "message-actor";

    /// <summary>
    /// The seed's <c>worker(message_actor, j)</c>. It mostly sleeps, so it reserves half a CPU: all three run at
    /// once even on a 2-CPU node.
    /// </summary>
    [Remote(NumCpus = 0.5)]
    public static void Worker(ActorHandle<MessageActor> messageActor, int j, int count, int intervalMs)
    {
        for (var i = 0; i < count; i++)
        {
            Thread.Sleep(intervalMs);
            messageActor.AddMessage($"Message {i} from worker {j}.");
        }
    }

    /// <summary>Runs the sample.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="messagesPerWorker">Messages each worker sends: 5 here, the seed sends 100.</param>
    /// <param name="interval">Time between messages and between drains: 0.2 s here, the seed uses 1 s.</param>
    /// <returns>Every message the driver received.</returns>
    public static async Task<IReadOnlyList<string>> RunAsync(TextWriter output, int messagesPerWorker = 5, TimeSpan? interval = null)
    {
        var intervalMs = (int)(interval ?? TimeSpan.FromMilliseconds(200)).TotalMilliseconds;
        output.WriteLine($"3 workers x {messagesPerWorker} messages, one every {NodeInfo.Seconds(TimeSpan.FromMilliseconds(intervalMs))} " +
                         "(the seed: 100 messages, one a second).");

        // Create a message actor, and start 3 tasks that push messages to it through its handle.
        var messageActor = MessageActor.Remote();
        var workers = Enumerable.Range(0, 3).Select(j => Remote.Worker(messageActor, j, messagesPerWorker, intervalMs)).ToList();

        // Periodically get the messages and print them, until every worker is done and the actor is drained.
        var received = new List<string>();
        var deadline = Stopwatch.StartNew();
        while (received.Count < 3 * messagesPerWorker)
        {
            var newMessages = await messageActor.GetAndClearMessages();
            output.WriteLine($"New messages: [{string.Join(", ", newMessages.Select(m => $"'{m}'"))}]");
            received.AddRange(newMessages);
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"Only {received.Count} of {3 * messagesPerWorker} messages arrived within 2 minutes.");
            }

            await Task.Delay(intervalMs);
        }

        foreach (var worker in workers)
        {
            await worker;
        }

        RayRuntime.Current.Kill(messageActor);
        return received;
    }
}
