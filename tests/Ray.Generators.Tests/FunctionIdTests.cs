using Ray.Generators.Helpers;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>The function id is FNV-1a 64 of the readable name's UTF-8 bytes, the same in every process.</summary>
public sealed class FunctionIdTests
{
    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void MatchesTheReferenceVectors(string text, ulong expected) => Assert.Equal(expected, FunctionId.Compute(text));

    [Fact]
    public void HashesUtf8() => Assert.NotEqual(FunctionId.Compute("Work.Add(é)"), FunctionId.Compute("Work.Add(e)"));

    [Fact]
    public void OverloadsDiffer()
        => Assert.NotEqual(FunctionId.Compute("MyApp.Work.Add(int, int)"), FunctionId.Compute("MyApp.Work.Add(long, long)"));
}
