using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// The seed's examples on a cluster: the samples program, unchanged, run as a driver process of three nodes through
/// <c>RAYGEN_ADDRESS</c> (its code shipped to the nodes by the package store), prints what it prints on one node.
/// </summary>
[Collection(ThreeNodeClusterCollection.Name)]
public sealed class SamplesOnClusterTests(ThreeNodeClusterFixture fixture)
{
    [Fact]
    public async Task Every_sample_runs_on_three_nodes_with_the_results_it_has_on_one()
    {
        var samples = SamplesDirectory();
        var others = fixture.Cluster.Nodes.Skip(1).ToArray();
        var jobsBefore = others.Sum(JobsStarted);
        using var driver = await NodeProcess.StartAsync(
            "dotnet",
            [Path.Combine(samples, "RayGen.Samples.dll"), "--quick"],
            new Dictionary<string, string>(fixture.Cluster.Environment) { ["RAYGEN_ADDRESS"] = fixture.Cluster.HeadAddress, ["RAYGEN_AUTH_TOKEN"] = fixture.Cluster.Token },
            readyLine: null);
        var exitCode = await driver.WaitForExitAsync();
        var text = driver.Output;
        Assert.True(exitCode == 0, $"The samples exited with {exitCode}:{Environment.NewLine}{text}");

        // Each sample's result, as SampleTests checks it on an embedded node.
        Assert.Contains("results = [0, 1, 2, 3]", text);
        Assert.Contains("Node: 3 CPU", text);
        Assert.Matches(@"add2\.remote\(ray\.put\(1\), ray\.put\(2\)\)\s+-> 3", text);
        Assert.Equal(4, Regex.Matches(text, @": result = 36,").Count);
        Assert.Matches(@"(?m)^0\r?\n2\r?$", text);
        // Every message once in the polled sample's batches and once in the streamed sample's lines.
        foreach (var message in from j in Enumerable.Range(0, 3) from i in Enumerable.Range(0, 3) select $"'Message {i} from worker {j}.'")
        {
            Assert.Single(Regex.Matches(text, @"(?m)^New messages: \[.*" + Regex.Escape(message)));
            Assert.Single(Regex.Matches(text, "(?m)^New message: " + Regex.Escape(message)));
        }

        Assert.Contains("(computed here: same)", text);
        Assert.Equal(2, Regex.Matches(text, @"sum of squares = \S+ \(expected \S+: same\)").Count);
        Assert.Equal(3, Regex.Matches(text, @"(?m)^\s*(10|20|50) \|.*\| yes$").Count);
        Assert.DoesNotMatch(@"(?m)\| no$", text);

        // Asynchronous SGD: the order in which the nodes' gradients reach the server moves the last digit (1.501 as well
        // as 1.500), so the weights are checked as SampleTests checks them on one node: within 0.05 of the true ones.
        var learned = Regex.Match(text, @"Learned w = \[(?<w>[^\]]+)\]");
        Assert.True(learned.Success, $"The parameter server printed no weights:{Environment.NewLine}{text}");
        var weights = learned.Groups["w"].Value.Split(", ").Select(w => double.Parse(w, CultureInfo.InvariantCulture)).ToArray();
        double[] trueWeights = [2.0, -3.0, 0.5, 1.5];
        Assert.Equal(trueWeights.Length, weights.Length);
        for (var i = 0; i < trueWeights.Length; i++)
        {
            Assert.Equal(trueWeights[i], weights[i], tolerance: 0.05);
        }

        // The work ran on more than the head (one CPU each): the samples' job started on another node too.
        Assert.True(others.Sum(JobsStarted) > jobsBefore, "The samples' job never started on a node other than the head.");
    }

    private static int JobsStarted(NodeProcess node) => Regex.Matches(node.Output, @"Job \S+ started on node").Count;

    private static string SamplesDirectory()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var directory = Path.Combine(TestCluster.RepositoryRoot(), "samples", "RayGen.Samples", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(directory, "RayGen.Samples.dll")), $"RayGen.Samples is not built in {directory}.");
        return directory;
    }
}
