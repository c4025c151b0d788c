using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Ray.Generators.Helpers;
using Ray.Generators.Model;

namespace Ray.Generators
{
    /// <summary>
    /// The emitter's half for actors: the <c>Remote(...)</c> factories and <c>WithOptions</c> added to the class, the
    /// <c>__RayActor</c> class with the descriptors and the worker-side registration, and the top-level class of
    /// extension methods that call the actor's methods through its handle.
    /// </summary>
    internal static partial class Emitter
    {
        private const string ActorHandleType = "global::Ray.ActorHandle";
        private const string ActorOptionsType = "global::Ray.ActorOptions";
        private const string ActorSubmitterType = "global::Ray.Infrastructure.ActorSubmitter";
        private const string ActorRegistryType = "global::Ray.Infrastructure.ActorRegistry";
        private const string ActorClassDescriptorType = "global::Ray.Infrastructure.ActorClassDescriptor";
        private const string ActorClass = Parser.ActorRegistrationClass;
        private const string Configured = Parser.ActorConfiguredStruct;
        private const string ClassDescriptorField = "Class";

        /// <summary>Adds the generated file of <paramref name="input"/>'s actor to the compilation.</summary>
        public static void EmitActor(SourceProductionContext context, (ActorSpec Actor, string AssemblyName) input)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            context.AddSource(input.Actor.HintName, WriteActor(input.Actor, input.AssemblyName).ToSourceText());
        }

        private static SourceWriter WriteActor(ActorSpec actor, string assemblyName)
        {
            var writer = StartFile();
            OpenNamespace(writer, actor.Type);
            OpenTypes(writer, actor.Type);
            WriteFactories(writer, actor);
            writer.WriteLine();
            WriteActorClass(writer, actor, assemblyName);
            CloseTypes(writer, actor.Type);
            if (actor.Methods.Count > 0)
            {
                writer.WriteLine();
                WriteExtensionsClass(writer, actor);
            }

            CloseNamespace(writer, actor.Type);
            return writer;
        }

        private static void WriteFactories(SourceWriter writer, ActorSpec actor)
        {
            var handleType = HandleType(actor);
            foreach (var constructor in actor.Constructors)
            {
                WriteConstructorDocumentation(writer, actor, constructor);
                WriteObsoleteAttribute(writer, constructor.ObsoleteAttribute);
                var modifiers = constructor.HidesInherited ? "new static" : "static";
                writer.WriteLine($"{constructor.Accessibility} {modifiers} {handleType} Remote({StubParameters(constructor.Parameters)})");
                writer.WriteLine($"    => default({Configured}).Remote({StubArguments(constructor.Parameters, "        ")});");
                writer.WriteLine();
            }

            writer.WriteLine($$"""
                /// <summary>
                /// Returns the <c>Remote(...)</c> factories with per-actor options, which override the values of the class's
                /// <c>[Remote]</c> attribute, for example <c>WithOptions(new() { Name = "c1", MaxRestarts = 3 })</c>.
                /// </summary>
                /// <param name="options">The options of the actors created through the returned factories.</param>
                public {{(actor.HidesInheritedWithOptions ? "new " : string.Empty)}}static {{Configured}} WithOptions({{ActorOptionsType}} options) => new {{Configured}}(options);

                /// <summary>The <c>Remote(...)</c> factories with per-actor options; see <see cref="WithOptions"/>.</summary>
                {{GeneratedCodeAttribute}}
                public {{(actor.HidesInheritedConfigured ? "new " : string.Empty)}}readonly struct {{Configured}}
                """);
            writer.OpenBlock();
            writer.WriteLine($$"""
                private readonly {{ActorOptionsType}}? _options;

                /// <summary>Creates factories whose actors are created with <paramref name="options"/>.</summary>
                /// <param name="options">The per-actor options.</param>
                public {{Configured}}({{ActorOptionsType}} options)
                {
                    _options = options;
                }
                """);

            foreach (var constructor in actor.Constructors)
            {
                writer.WriteLine();
                WriteConstructorDocumentation(writer, actor, constructor);
                WriteObsoleteAttribute(writer, constructor.ObsoleteAttribute);
                writer.WriteLine($"{constructor.Accessibility} {handleType} Remote({StubParameters(constructor.Parameters)})");
                var create = $"{ActorSubmitterType}.Create<{actor.Type.FullyQualifiedName}>";
                WriteSubmission(
                    writer,
                    $"    => {create}({ActorClass}.{ClassDescriptorField}, {ActorClass}.{ConstructorField(constructor)}, this._options, ",
                    constructor.Parameters);
            }

            writer.CloseBlock();
        }

        private static void WriteConstructorDocumentation(SourceWriter writer, ActorSpec actor, ActorConstructorSpec constructor)
        {
            writer.WriteLine(constructor.DocumentationId is null
                ? $"/// <summary>Creates a <see cref=\"{actor.Type.FullyQualifiedName}\"/> actor in a worker and returns its handle at once.</summary>"
                : $"/// <inheritdoc cref=\"{constructor.DocumentationId}\"/>");
        }

        private static void WriteActorClass(SourceWriter writer, ActorSpec actor, string assemblyName)
        {
            var assembly = SymbolDisplay.FormatLiteral(assemblyName, quote: true);
            writer.WriteLine($"""
                /// <summary>
                /// The descriptors of the actor class <see cref="{actor.Type.FullyQualifiedName}"/>, its constructors and its methods, and
                /// their registration with the registry that workers create actors and dispatch calls through.
                /// </summary>
                [global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]
                {GeneratedCodeAttribute}
                internal {(actor.HidesInheritedActorClass ? "new " : string.Empty)}static class {ActorClass}
                """);
            writer.OpenBlock();

            writer.WriteLine($"/// <summary>The descriptor of the actor class <c>{EscapeXml(actor.Type.FullName)}</c>.</summary>");
            writer.WriteLine($"internal static readonly {ActorClassDescriptorType} {ClassDescriptorField} =");
            var classConstructor = $"    new({SymbolDisplay.FormatLiteral(actor.Type.FullName, quote: true)}, {assembly})";
            var initializers = ActorInitializers(actor.Options);
            writer.WriteLine(initializers.Count == 0
                ? classConstructor + ";"
                : $"{classConstructor} {{ {string.Join(", ", initializers)} }};");

            foreach (var constructor in actor.Constructors)
            {
                writer.WriteLine();
                WriteFunctionDescriptor(writer, ConstructorField(constructor), constructor.ReadableName, constructor.FunctionId, assembly);
            }

            foreach (var method in actor.Methods)
            {
                writer.WriteLine();
                WriteFunctionDescriptor(writer, DescriptorField(method.Name, method.FunctionId), method.ReadableName, method.FunctionId, assembly);
            }

            writer.WriteLine();
            writer.WriteLine("""
                /// <summary>
                /// Registers every constructor and method of this actor class when the assembly is loaded, so that a worker
                /// finds them by id with a table look-up and no reflection.
                /// </summary>
                [global::System.Runtime.CompilerServices.ModuleInitializer]
                internal static void Register()
                """);
            writer.OpenBlock();
            var first = true;
            foreach (var constructor in actor.Constructors)
            {
                WriteSeparator(writer, ref first);
                WithObsoleteSuppressed(writer, constructor.ObsoleteAttribute, () => writer.WriteLine($"""
                    {ActorRegistryType}.RegisterConstructor({ConstructorField(constructor)}, {ClassDescriptorField}, static invocation =>
                        new {actor.Type.FullyQualifiedName}({InvocationArguments(constructor.Parameters)}));
                    """));
            }

            foreach (var method in actor.Methods)
            {
                WriteSeparator(writer, ref first);
                var register = $"{ActorRegistryType}.RegisterMethod({DescriptorField(method.Name, method.FunctionId)}, {ClassDescriptorField}, ";
                var call = $"(({actor.Type.FullyQualifiedName})instance).{method.Name}({InvocationArguments(method.Parameters)})";
                WithObsoleteSuppressed(writer, method.ObsoleteAttribute, () => WriteInvoker(writer, register, "(instance, invocation)", call, method.ReturnKind, method.ResultType));
            }

            writer.CloseBlock();
            writer.CloseBlock();
        }

        private static void WriteExtensionsClass(SourceWriter writer, ActorSpec actor)
        {
            var actorClass = $"{actor.Type.FullyQualifiedName}.{ActorClass}";
            writer.WriteLine($$"""
                /// <summary>
                /// Calls of the methods of the actor <see cref="{{actor.Type.FullyQualifiedName}}"/> through its
                /// <see cref="{{ActorHandleType}}{TActor}"/>: each call is queued to the actor and returns at once with an
                /// <see cref="{{ObjectRefType}}"/>; await it or call <c>Get()</c> for the result. Calls from one caller run in order.
                /// Arguments may be values or <see cref="{{ObjectRefType}}{T}"/> futures of earlier calls.
                /// </summary>
                """);
            WriteObsoleteAttribute(writer, actor.ObsoleteAttribute);
            writer.WriteLine(GeneratedCodeAttribute);
            writer.WriteLine($"{actor.ExtensionsAccessibility} static class {actor.ExtensionsClassName}");
            writer.OpenBlock();

            var first = true;
            foreach (var method in actor.Methods)
            {
                WriteSeparator(writer, ref first);

                // The receiver must not take the name of one of the method's own parameters.
                var receiver = "handle";
                while (method.Parameters.Any(parameter => parameter.Name == receiver))
                {
                    receiver = "_" + receiver;
                }

                writer.WriteLine($"/// <inheritdoc cref=\"{method.DocumentationId}\"/>");
                WriteObsoleteAttribute(writer, method.ObsoleteAttribute);
                var returnType = method.ResultType is null ? ObjectRefType : $"{ObjectRefType}<{method.ResultType}>";
                var parameters = StubParameters(method.Parameters, $"this {HandleType(actor)} {receiver}");
                writer.WriteLine($"public static {returnType} {method.Name}({parameters})");
                var call = method.ResultType is null
                    ? $"{ActorSubmitterType}.CallVoid<{actor.Type.FullyQualifiedName}>"
                    : $"{ActorSubmitterType}.Call<{actor.Type.FullyQualifiedName}, {method.ResultType}>";
                WriteSubmission(
                    writer,
                    $"    => {call}({receiver}, {actorClass}.{ClassDescriptorField}, {actorClass}.{DescriptorField(method.Name, method.FunctionId)}, ",
                    method.Parameters);
            }

            writer.CloseBlock();
        }

        private static void WriteFunctionDescriptor(SourceWriter writer, string field, string readableName, ulong functionId, string assembly)
        {
            var id = functionId.ToString("x16", CultureInfo.InvariantCulture);
            writer.WriteLine($"""
                /// <summary>The descriptor of <c>{EscapeXml(readableName)}</c>.</summary>
                internal static readonly {DescriptorType} {field} =
                    new(0x{id}UL, {SymbolDisplay.FormatLiteral(readableName, quote: true)}, {assembly});
                """);
        }

        /// <summary>
        /// Writes what <paramref name="write"/> writes; the factories and extension methods repeat <c>[Obsolete]</c> so
        /// that callers are warned, but the registration has to call the member anyway.
        /// </summary>
        private static void WithObsoleteSuppressed(SourceWriter writer, string? obsoleteAttribute, System.Action write)
        {
            if (obsoleteAttribute is not null)
            {
                writer.WriteLine("#pragma warning disable CS0612, CS0618");
            }

            write();
            if (obsoleteAttribute is not null)
            {
                writer.WriteLine("#pragma warning restore CS0612, CS0618");
            }
        }

        private static void WriteSeparator(SourceWriter writer, ref bool first)
        {
            if (!first)
            {
                writer.WriteLine();
            }

            first = false;
        }

        private static string HandleType(ActorSpec actor) => $"{ActorHandleType}<{actor.Type.FullyQualifiedName}>";

        private static string ConstructorField(ActorConstructorSpec constructor)
            => DescriptorField("Ctor", constructor.FunctionId);

        private static List<string> ActorInitializers(ActorOptionsSpec options)
        {
            var initializers = new List<string>();
            if (options.NumCpus is { } numCpus)
            {
                initializers.Add($"NumCpus = {FormatDouble(numCpus)}");
            }

            if (options.MaxRestarts is { } maxRestarts)
            {
                initializers.Add($"MaxRestarts = {maxRestarts.ToString(CultureInfo.InvariantCulture)}");
            }

            if (options.MaxTaskRetries is { } maxTaskRetries)
            {
                initializers.Add($"MaxTaskRetries = {maxTaskRetries.ToString(CultureInfo.InvariantCulture)}");
            }

            if (options.MaxConcurrency is { } maxConcurrency)
            {
                initializers.Add($"MaxConcurrency = {maxConcurrency.ToString(CultureInfo.InvariantCulture)}");
            }

            if (options.DedicatedProcess is { } dedicatedProcess)
            {
                initializers.Add($"DedicatedProcess = {(dedicatedProcess ? "true" : "false")}");
            }

            return initializers;
        }
    }
}
