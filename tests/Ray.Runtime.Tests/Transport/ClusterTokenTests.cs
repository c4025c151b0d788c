using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.Transport;

/// <summary>Generating, checking, comparing and storing the cluster token.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class ClusterTokenTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory = Directory.CreateTempSubdirectory("raygen-token-").FullName;
    private readonly CapturedLogs _logs = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_generated_token_is_43_url_safe_characters_and_new_each_time()
    {
        var tokens = Enumerable.Range(0, 100).Select(_ => ClusterToken.Generate().Value).ToArray();

        Assert.All(tokens, t => Assert.Matches("^[A-Za-z0-9_-]{43}$", t));
        Assert.All(tokens, t => Assert.Null(ClusterToken.FormatProblem(t)));
        Assert.Equal(tokens.Length, tokens.Distinct().Count());
    }

    [Fact]
    public void Matches_accepts_the_token_only()
    {
        var token = ClusterToken.Generate();
        var value = token.Value;

        Assert.True(token.Matches(value));
        Assert.True(ClusterToken.Parse(value, "a test").Matches(value));
        Assert.False(token.Matches(ClusterToken.Generate().Value));
        Assert.False(token.Matches(value.AsSpan()[..^1]));
        Assert.False(token.Matches(value + "x"));
        Assert.False(token.Matches(value[..^1] + (value[^1] == 'A' ? 'B' : 'A')));
        Assert.False(token.Matches(value[..^1] + 'é'));
        Assert.False(token.Matches(""));
        Assert.False(token.Matches(new string('a', ClusterToken.MaxLength * 2)));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has spaces in it which a header cannot carry")]
    [InlineData("ünïcödé-ünïcödé-ünïcödé-ünïcödé-ünïcödé")]
    public void A_malformed_token_is_refused_without_repeating_it(string text)
    {
        var error = Assert.Throws<RayException>(() => ClusterToken.Parse(text, "--auth-token"));

        Assert.Contains("--auth-token", error.Message);
        Assert.DoesNotContain(text, error.Message);
    }

    [Fact]
    public void A_token_never_formats_as_its_value()
    {
        var token = ClusterToken.Generate();

        Assert.DoesNotContain(token.Value, token.ToString());
        Assert.DoesNotContain(token.Value, $"{token}");
        Assert.DoesNotContain(token.Value, new ClusterCredentials(token).ToString());
    }

    [Fact]
    public void The_token_file_is_0600_in_a_0700_folder_and_round_trips()
    {
        var path = Path.Combine(_directory, "new-folder", "auth_token");
        var token = ClusterToken.Generate();

        token.WriteFile(path);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(token.Value + "\n", File.ReadAllText(path));
        Assert.True(ClusterToken.ReadFile(path, _logs.CreateLogger("test")).Matches(token.Value));
        Assert.Empty(_logs.Entries);
    }

    [Fact]
    public void Writing_over_a_token_file_replaces_it_whole_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_directory, "auth_token");
        File.WriteAllText(path, "an old file anyone could read");
        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var token = ClusterToken.Generate();

        token.WriteFile(path);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.True(ClusterToken.ReadFile(path, _logs.CreateLogger("test")).Matches(token.Value));
        Assert.Equal([path], Directory.GetFiles(_directory));
    }

    [Fact]
    public void A_token_file_others_can_read_works_with_a_warning()
    {
        var path = Path.Combine(_directory, "auth_token");
        var token = ClusterToken.Generate();
        token.WriteFile(path);
        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var read = ClusterToken.ReadFile(path, _logs.CreateLogger("test"));

        Assert.True(read.Matches(token.Value));
        var warning = Assert.Single(_logs.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("644", warning.Message);
        Assert.Contains("chmod 600", warning.Message);
        Assert.DoesNotContain(token.Value, _logs.AllText());
    }

    [Fact]
    public void A_missing_or_malformed_token_file_is_a_clear_error_that_does_not_show_its_content()
    {
        var missing = Path.Combine(_directory, "absent");
        var error = Assert.Throws<RayException>(() => ClusterToken.ReadFile(missing, _logs.CreateLogger("test")));
        Assert.Contains(missing, error.Message);
        Assert.Contains("raygen start --head", error.Message);

        var malformed = Path.Combine(_directory, "malformed");
        File.WriteAllText(malformed, "not a token at all, with spaces and secrets");
        File.SetUnixFileMode(malformed, OwnerOnly);
        error = Assert.Throws<RayException>(() => ClusterToken.ReadFile(malformed, _logs.CreateLogger("test")));
        Assert.Contains(malformed, error.Message);
        Assert.DoesNotContain("secrets", error.Message);
    }
}

/// <summary>
/// Where a process finds its token. Alone in its collection, and never run beside other tests: it sets
/// <c>RAYGEN_AUTH_TOKEN</c>, which is the whole process's.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(EnvironmentCollection.Name)]
public sealed class ClusterTokenResolveTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("raygen-token-").FullName;
    private readonly Microsoft.Extensions.Logging.ILogger _logger = new CapturedLogs().CreateLogger("test");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, null);
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void The_configured_token_comes_first_then_the_environment_then_the_file()
    {
        var file = Path.Combine(_directory, "auth_token");
        var (configured, environment, stored) = (ClusterToken.Generate(), ClusterToken.Generate(), ClusterToken.Generate());
        stored.WriteFile(file);
        Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, environment.Value);

        Assert.True(ClusterToken.Resolve(configured.Value, file, _logger)!.Matches(configured.Value));
        Assert.True(ClusterToken.Resolve(null, file, _logger)!.Matches(environment.Value));

        Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, null);
        Assert.True(ClusterToken.Resolve("", file, _logger)!.Matches(stored.Value));
        Assert.Null(ClusterToken.Resolve(null, Path.Combine(_directory, "absent"), _logger));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Process environment";
}
