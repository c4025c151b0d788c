namespace Ray.Generators
{
    /// <summary>
    /// The names of the steps of <see cref="RemoteGenerator"/>'s pipeline, as they appear in a
    /// <c>GeneratorDriver</c> run's tracked steps; tests use them to check that each step is cached.
    /// </summary>
    public static class TrackingNames
    {
        /// <summary>Each <c>[Remote]</c> declaration parsed into a method or actor spec and its diagnostics.</summary>
        public const string RemoteTargets = nameof(RemoteTargets);

        /// <summary>The method specs of the declarations that had no errors.</summary>
        public const string RemoteMethods = nameof(RemoteMethods);

        /// <summary>All method specs of the compilation, collected to group them by containing type.</summary>
        public const string CollectedRemoteMethods = nameof(CollectedRemoteMethods);

        /// <summary>The compilation's assembly name, which descriptors carry.</summary>
        public const string AssemblyName = nameof(AssemblyName);

        /// <summary>The collected method specs paired with the assembly name.</summary>
        public const string CollectedRemoteMethodsWithAssemblyName = nameof(CollectedRemoteMethodsWithAssemblyName);

        /// <summary>One spec per containing type: one generated file each.</summary>
        public const string RemoteTypes = nameof(RemoteTypes);

        /// <summary>The actor specs of the <c>[Remote]</c> classes that had no error of their own: one generated file each.</summary>
        public const string RemoteActors = nameof(RemoteActors);

        /// <summary>Each actor spec paired with the assembly name.</summary>
        public const string RemoteActorsWithAssemblyName = nameof(RemoteActorsWithAssemblyName);

        /// <summary>The diagnostics of each <c>[Remote]</c> declaration.</summary>
        public const string RemoteTargetDiagnostics = nameof(RemoteTargetDiagnostics);

        /// <summary>The diagnostics of all declarations, collected.</summary>
        public const string CollectedDiagnostics = nameof(CollectedDiagnostics);

        /// <summary>The diagnostics to report, without duplicates.</summary>
        public const string Diagnostics = nameof(Diagnostics);
    }
}
