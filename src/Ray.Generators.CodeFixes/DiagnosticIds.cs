namespace Ray.Generators.CodeFixes
{
    /// <summary>
    /// The ids and property keys of the diagnostics these fixes handle. The fixes live in an assembly of their own
    /// (they need Workspaces, which a compiler extension must not reference), so the values are repeated here
    /// and a test checks that they match the descriptors.
    /// </summary>
    internal static class DiagnosticIds
    {
        /// <summary>A parameter or result type that MemoryPack cannot serialize.</summary>
        public const string NotSerializable = "RAY0001";

        /// <summary>A type with remote methods that is not partial.</summary>
        public const string TypeNotPartial = "RAY0003";

        /// <summary>A blocking <c>Get()</c> in async remote code.</summary>
        public const string BlockingGetInAsync = "RAY0011";

        /// <summary>The property of RAY0011 that says which 'await' replaces the blocking wait, when one keeps its meaning.</summary>
        public const string AwaitFormProperty = "RayGen.AwaitForm";

        /// <summary>RAY0011's form for <c>reference.Get()</c> and <c>reference.Wait()</c>: <c>await reference</c>.</summary>
        public const string AwaitReference = "Reference";

        /// <summary>RAY0011's form for <c>ray.Get(references)</c>: <c>await ray.GetAsync(references)</c>.</summary>
        public const string AwaitGetAsync = "GetAsync";

        /// <summary>The property of RAY0001 that says the offending type is a class or struct declared in source.</summary>
        public const string OffendingTypeInSourceProperty = "RayGen.OffendingTypeInSource";
    }
}
