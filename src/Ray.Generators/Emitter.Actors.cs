using System;
using System.Collections.Generic;
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
                var modifiers = constructor.HidesInherited ? "new static" : "static";
                WriteStubDeclaration(writer, ConstructorDocumentation(actor, constructor), constructor.ObsoleteAttribute, $"{constructor.Accessibility} {modifiers} {handleType} Remote", constructor.Parameters);
                WriteForwardingBody(writer, Configured, "Remote", constructor.Parameters);
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
                WriteStubDeclaration(writer, ConstructorDocumentation(actor, constructor), constructor.ObsoleteAttribute, $"{constructor.Accessibility} {handleType} Remote", constructor.Parameters);
                var create = $"{ActorSubmitterType}.Create<{actor.Type.FullyQualifiedName}>";
                WriteSubmission(
                    writer,
                    $"    => {create}({ActorClass}.{ClassDescriptorField}, {ActorClass}.{ConstructorField(constructor)}, this._options, ",
                    constructor.Parameters);
            }

            writer.CloseBlock();
        }

        private static string ConstructorDocumentation(ActorSpec actor, ActorConstructorSpec constructor)
            => constructor.DocumentationId is null
                ? $"/// <summary>Creates a <see cref=\"{actor.Type.FullyQualifiedName}\"/> actor in a worker and returns its handle at once.</summary>"
                : $"/// <inheritdoc cref=\"{constructor.DocumentationId}\"/>";

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

            WriteDescriptor(
                writer,
                $"The descriptor of the actor class <c>{EscapeXml(actor.Type.FullName)}</c>.",
                ActorClassDescriptorType,
                ClassDescriptorField,
                $"{SymbolDisplay.FormatLiteral(actor.Type.FullName, quote: true)}, {assembly}",
                ActorInitializers(actor.Options));

            // An actor's options are on its class descriptor, so the descriptors of its constructors and methods set none
            // (a method says whether it streams).
            foreach (var constructor in actor.Constructors)
            {
                writer.WriteLine();
                WriteFunctionDescriptor(writer, ConstructorField(constructor), constructor.ReadableName, constructor.FunctionId, assembly, Array.Empty<string>());
            }

            foreach (var method in actor.Methods)
            {
                writer.WriteLine();
                WriteFunctionDescriptor(writer, DescriptorField(method), method.ReadableName, method.FunctionId, assembly, StreamingInitializers(method));
            }

            writer.WriteLine();
            OpenRegisterMethod(writer, """
                /// Registers every constructor and method of this actor class when the assembly is loaded, so that a worker
                /// finds them by id with a table look-up and no reflection.
                """);
            var first = true;
            foreach (var constructor in actor.Constructors)
            {
                WriteSeparator(writer, ref first);
                WriteSuppressingObsolete(writer, constructor.ObsoleteAttribute, $"""
                    {ActorRegistryType}.RegisterConstructor({ConstructorField(constructor)}, {ClassDescriptorField}, static invocation =>
                        new {actor.Type.FullyQualifiedName}({InvocationArguments(constructor.Parameters)}));
                    """);
            }

            foreach (var method in actor.Methods)
            {
                WriteSeparator(writer, ref first);
                var register = $"{ActorRegistryType}.RegisterMethod({DescriptorField(method)}, {ClassDescriptorField}, ";
                WriteInvoker(writer, register, "(instance, invocation)", $"(({actor.Type.FullyQualifiedName})instance)", method);
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

                WriteStubDeclaration(writer, InheritDoc(method), method.ObsoleteAttribute, $"public static {StubReturnType(method)} {method.Name}", method.Parameters, $"this {HandleType(actor)} {receiver}");
                var call = method.ReturnKind == ReturnKind.Stream ? $"{ActorSubmitterType}.CallStream<{actor.Type.FullyQualifiedName}, {method.ResultType}>"
                    : method.ResultType is null ? $"{ActorSubmitterType}.CallVoid<{actor.Type.FullyQualifiedName}>"
                    : $"{ActorSubmitterType}.Call<{actor.Type.FullyQualifiedName}, {method.ResultType}>";
                WriteSubmission(
                    writer,
                    $"    => {call}({receiver}, {actorClass}.{ClassDescriptorField}, {actorClass}.{DescriptorField(method)}, ",
                    method.Parameters);
            }

            writer.CloseBlock();
        }

        private static string HandleType(ActorSpec actor) => $"{ActorHandleType}<{actor.Type.FullyQualifiedName}>";

        private static string ConstructorField(ActorConstructorSpec constructor)
            => DescriptorField("Ctor", constructor.FunctionId);

        private static IReadOnlyList<string> ActorInitializers(ActorOptionsSpec options) => Initializers(
            ("NumCpus", Literal(options.NumCpus)),
            ("MaxRestarts", Literal(options.MaxRestarts)),
            ("MaxTaskRetries", Literal(options.MaxTaskRetries)),
            ("MaxConcurrency", Literal(options.MaxConcurrency)),
            ("DedicatedProcess", Literal(options.DedicatedProcess)));
    }
}
