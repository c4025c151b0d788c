using System.Diagnostics;
using System.Globalization;
using MemoryPack;
using Ray;

namespace RayGen.Samples;

/// <summary>A dense row-major matrix of doubles; <c>[MemoryPackable]</c> so it can be a task's argument and result.</summary>
/// <param name="Rows">The number of rows.</param>
/// <param name="Cols">The number of columns.</param>
/// <param name="Data">The entries, row by row.</param>
[MemoryPackable]
public sealed partial record Matrix(int Rows, int Cols, double[] Data)
{
    /// <summary>The entry at (<paramref name="row"/>, <paramref name="col"/>).</summary>
    public double this[int row, int col] => Data[(row * Cols) + col];

    /// <summary>The sum of all entries: a cheap fingerprint to compare two computations of the same matrix.</summary>
    public double Checksum()
    {
        var sum = 0.0;
        foreach (var value in Data)
        {
            sum += value;
        }

        return sum;
    }
}

/// <summary>
/// Seed III.I "Task Dependencies": <c>multiply_matrices</c> takes the futures of two <c>create_matrix</c> tasks
/// and runs once both are ready; and seed II: <c>add2.remote(1, 2)</c>, <c>add2.remote(1, ray.put(2))</c> and
/// <c>add2.remote(ray.put(1), ray.put(2))</c> behave the same.
/// </summary>
public static partial class TaskDependencies
{
    public const string Name = "task-dependencies";

    /// <summary>The seed's <c>create_matrix(size)</c>: a matrix of standard normal samples (seeded, so it can be checked).</summary>
    [Remote]
    public static Matrix CreateMatrix(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        var data = new double[rows * cols];
        for (var i = 0; i < data.Length; i++)
        {
            // Box-Muller: numpy.random.normal's distribution, without numpy.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            data[i] = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }

        return new Matrix(rows, cols, data);
    }

    /// <summary>The seed's <c>multiply_matrices(x, y)</c>: <c>np.dot(x, y)</c>.</summary>
    [Remote]
    public static Matrix MultiplyMatrices(Matrix x, Matrix y)
    {
        if (x.Cols != y.Rows)
        {
            throw new ArgumentException($"Cannot multiply a {x.Rows}x{x.Cols} matrix by a {y.Rows}x{y.Cols} one.");
        }

        var result = new double[x.Rows * y.Cols];
        for (var i = 0; i < x.Rows; i++)
        {
            var row = result.AsSpan(i * y.Cols, y.Cols);
            for (var k = 0; k < x.Cols; k++)
            {
                var a = x.Data[(i * x.Cols) + k];
                var yRow = y.Data.AsSpan(k * y.Cols, y.Cols);
                for (var j = 0; j < row.Length; j++)
                {
                    row[j] += a * yRow[j];
                }
            }
        }

        return new Matrix(x.Rows, y.Cols, result);
    }

    /// <summary>The seed's <c>add2(a, b)</c>.</summary>
    [Remote]
    public static int Add2(int a, int b) => a + b;

    /// <summary>The checksum of the product, computed in this process without RayGen, to check the remote one against.</summary>
    public static double LocalChecksum(int size) =>
        MultiplyMatrices(CreateMatrix(size, size, seed: 1), CreateMatrix(size, size, seed: 2)).Checksum();

    /// <summary>Runs the sample.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="size">The matrices are <paramref name="size"/> x <paramref name="size"/> (the Ray tutorial uses 1000).</param>
    public static async Task RunAsync(TextWriter output, int size = 500)
    {
        var ray = RayRuntime.Current;
        output.WriteLine($"Node: {NodeInfo.Describe()}.");

        // x_id = create_matrix.remote([size, size]); y_id = ...; z_id = multiply_matrices.remote(x_id, y_id)
        var stopwatch = Stopwatch.StartNew();
        ObjectRef<Matrix> xId = Remote.CreateMatrix(size, size, 1);
        ObjectRef<Matrix> yId = Remote.CreateMatrix(size, size, 2);
        ObjectRef<Matrix> zId = Remote.MultiplyMatrices(xId, yId);
        output.WriteLine($"Submitted create_matrix x2 and multiply_matrices(x_id, y_id) in {stopwatch.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms; none of them has to be finished yet.");
        var z = await zId;
        output.WriteLine($"z = multiply_matrices(x, y): shape ({z.Rows}, {z.Cols}), ready after {NodeInfo.Seconds(stopwatch.Elapsed)}");
        output.WriteLine($"  z[0, 0] = {z[0, 0].ToString("R", CultureInfo.InvariantCulture)}");
        output.WriteLine($"  checksum (sum of entries) = {z.Checksum().ToString("R", CultureInfo.InvariantCulture)}");

        // Section II: arguments by value or by object reference behave the same.
        output.WriteLine();
        output.WriteLine("Arguments may be values or object references (ray.put):");
        var byValue = await Remote.Add2(1, 2);
        var mixed = await Remote.Add2(1, ray.Put(2));
        var byReference = await Remote.Add2(ray.Put(1), ray.Put(2));
        output.WriteLine($"  add2.remote(1, 2)                   -> {byValue}");
        output.WriteLine($"  add2.remote(1, ray.put(2))          -> {mixed}");
        output.WriteLine($"  add2.remote(ray.put(1), ray.put(2)) -> {byReference}");
    }
}
