using System.Globalization;
using Ray;

namespace RayGen.Samples;

/// <summary>
/// The state a parameter server shares: the weights of a linear model, updated by every gradient that arrives.
/// One instance serves all workers; its calls run one at a time, so updates never race.
/// </summary>
[Remote]
public partial class ParameterServer
{
    private readonly double[] _weights;
    private readonly double _learningRate;
    private int _updates;

    /// <summary>Starts from zero weights.</summary>
    public ParameterServer(int dimensions, double learningRate)
    {
        _weights = new double[dimensions];
        _learningRate = learningRate;
    }

    /// <summary>Applies one worker's gradient and returns the new weights.</summary>
    public double[] ApplyGradient(double[] gradient)
    {
        for (var i = 0; i < _weights.Length; i++)
        {
            _weights[i] -= _learningRate * gradient[i];
        }

        _updates++;
        return (double[])_weights.Clone();
    }

    /// <summary>The current weights.</summary>
    public double[] GetWeights() => (double[])_weights.Clone();

    /// <summary>How many gradients were applied.</summary>
    public int Updates() => _updates;
}

/// <summary>
/// Why actors matter: asynchronous SGD with a parameter server. Workers hold their own shard of the data,
/// pull the current weights, compute a gradient and push it; the server is the one place the model lives.
/// Without an actor, the shared, changing weights would have to travel back through the driver every step.
/// </summary>
public static partial class ParameterServerSample
{
    public const string Name = "parameter-server";

    /// <summary>The true model the data is drawn from; training should recover it.</summary>
    public static readonly double[] TrueWeights = [2.0, -3.0, 0.5, 1.5];

    /// <summary>A worker: trains on its shard for <paramref name="steps"/> steps against the shared server.</summary>
    [Remote]
    public static async Task<double> Train(ActorHandle<ParameterServer> server, int shard, int samples, int steps)
    {
        var (features, targets) = MakeShard(shard, samples);
        var weights = await server.GetWeights();
        for (var step = 0; step < steps; step++)
        {
            // Each step needs the weights that the previous push produced, so it waits for them.
            weights = await server.ApplyGradient(Gradient(weights, features, targets));
        }

        return Loss(weights, features, targets);
    }

    /// <summary>Runs the sample.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="workers">How many worker tasks train at once.</param>
    /// <param name="steps">Gradient steps per worker.</param>
    /// <returns>The learned weights.</returns>
    public static async Task<double[]> RunAsync(TextWriter output, int workers = 4, int steps = 50)
    {
        var server = ParameterServer.Remote(TrueWeights.Length, 0.1);
        output.WriteLine($"Training y = w.x on {workers} data shards; the true w is [{Format(TrueWeights)}].");

        var losses = await RayRuntime.Current.GetAsync(Enumerable.Range(0, workers).Select(shard => Remote.Train(server, shard, 200, steps)));
        var weights = await server.GetWeights();
        output.WriteLine($"{await server.Updates()} gradients applied by the parameter server.");
        output.WriteLine($"Final loss per shard: [{string.Join(", ", losses.Select(l => l.ToString("0.0000", CultureInfo.InvariantCulture)))}]");
        output.WriteLine($"Learned w = [{Format(weights)}]");
        RayRuntime.Current.Kill(server);
        return weights;
    }

    /// <summary>A deterministic shard of noisy samples from the true model.</summary>
    public static (double[][] Features, double[] Targets) MakeShard(int shard, int samples)
    {
        var random = new Random(1_000 + shard);
        var features = new double[samples][];
        var targets = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            features[i] = [.. TrueWeights.Select(_ => (random.NextDouble() * 2) - 1)];
            targets[i] = features[i].Zip(TrueWeights, (x, w) => x * w).Sum() + ((random.NextDouble() - 0.5) * 0.01);
        }

        return (features, targets);
    }

    private static double[] Gradient(double[] weights, double[][] features, double[] targets)
    {
        var gradient = new double[weights.Length];
        for (var i = 0; i < targets.Length; i++)
        {
            var error = features[i].Zip(weights, (x, w) => x * w).Sum() - targets[i];
            for (var d = 0; d < weights.Length; d++)
            {
                gradient[d] += 2 * error * features[i][d] / targets.Length;
            }
        }

        return gradient;
    }

    private static double Loss(double[] weights, double[][] features, double[] targets) =>
        features.Select((x, i) => Math.Pow(x.Zip(weights, (a, w) => a * w).Sum() - targets[i], 2)).Average();

    private static string Format(double[] values) =>
        string.Join(", ", values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)));
}
