#if RAYGEN_BUILD_V2
/// <summary>What tells this build from the other one of the same assembly.</summary>
internal static class ClusterAppBuild
{
    public const string Name = "build two";
}
#endif
