using System;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Ray.Generators.Helpers
{
    /// <summary>
    /// Writes C# source line by line with four-space indentation, after System.Text.Json's generator.
    /// Lines always end in <c>\n</c>, so the output is the same on every operating system.
    /// </summary>
    internal sealed class SourceWriter
    {
        private const int SpacesPerIndentation = 4;

        private readonly StringBuilder _builder = new StringBuilder();
        private int _indentation;

        /// <summary>The current indentation level.</summary>
        public int Indentation
        {
            get => _indentation;
            set
            {
                if (value < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(value));
                }

                _indentation = value;
            }
        }

        /// <summary>Writes an empty line.</summary>
        public void WriteLine() => _builder.Append('\n');

        /// <summary>Writes <paramref name="text"/>, indenting each of its lines.</summary>
        public void WriteLine(string text)
        {
            foreach (var line in text.Split('\n'))
            {
                var trimmed = line.TrimEnd('\r');
                if (trimmed.Length > 0)
                {
                    _builder.Append(' ', _indentation * SpacesPerIndentation);
                    _builder.Append(trimmed);
                }

                _builder.Append('\n');
            }
        }

        /// <summary>Writes <c>{</c> and indents the lines that follow.</summary>
        public void OpenBlock()
        {
            WriteLine("{");
            _indentation++;
        }

        /// <summary>Unindents and writes <c>}</c> followed by <paramref name="suffix"/>.</summary>
        public void CloseBlock(string suffix = "")
        {
            Indentation--;
            WriteLine("}" + suffix);
        }

        /// <summary>The text written so far.</summary>
        public override string ToString() => _builder.ToString();

        /// <summary>The text written so far, as UTF-8 source.</summary>
        public SourceText ToSourceText() => SourceText.From(_builder.ToString(), Encoding.UTF8);
    }
}
