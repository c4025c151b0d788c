#!/usr/bin/env bash
# Measures what RayGen's source generator and analyzers add to a build (docs/benchmarks.md, "Build-time cost of
# the generator and analyzers"). Writes a project of 1,000 [Remote] methods (100 static classes of 10) and 100
# actor classes (a constructor and 5 methods each) to a temporary folder, then times `dotnet build
# --no-incremental` of it, median of 3 after a warm-up, with RayGen wired through src/RayGen.props and without
# it (the same declarations, where [Remote] is an inert attribute; the code that calls the generated stubs is
# compiled only with RayGen). Last, one build with -p:ReportAnalyzer=true gives the generator's and each
# analyzer's own time. The referenced Ray projects must be built already (Release): dotnet build -c Release RayGen.sln
#
# usage: tests/Ray.Analyzers.Tests/BuildCost/measure-build-cost.sh [runs]
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
runs=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

write_project() {
  local dir=$1 raygen=$2
  mkdir -p "$dir"
  if [ "$raygen" = yes ]; then
    wiring="<DefineConstants>\$(DefineConstants);RAYGEN</DefineConstants></PropertyGroup><Import Project=\"$root/src/RayGen.props\" /><PropertyGroup>"
  else
    wiring="</PropertyGroup><ItemGroup><ProjectReference Include=\"$root/src/Ray.Abstractions/Ray.Abstractions.csproj\" /><ProjectReference Include=\"$root/src/Ray.Runtime/Ray.Runtime.csproj\" /></ItemGroup><PropertyGroup>"
  fi
  cat > "$dir/Large.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <NoWarn>\$(NoWarn);CS1998;CS4014</NoWarn>
    $wiring
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="MemoryPack" Version="1.21.4" />
  </ItemGroup>
</Project>
XML
  cat > "$dir/Types.cs" <<'CS'
namespace Large;

[MemoryPack.MemoryPackable]
public partial record Point(int X, int Y);
CS
  for i in $(seq -w 0 99); do
    {
      echo "using Ray;"
      echo "namespace Large;"
      echo "public static partial class Tasks$i"
      echo "{"
      for m in 0 1 2 3 4 5 6 7 8 9; do
        case $((m % 5)) in
          0) echo "    [Remote] public static int M$m(int x, int y) => x + y;" ;;
          1) echo "    [Remote] public static double M$m(double[] data, int seed) => data.Length + seed;" ;;
          2) echo "    [Remote] public static List<Point> M$m(List<Point> points, string name) => points;" ;;
          3) echo "    [Remote] public static async Task<string> M$m(string text, CancellationToken ct) { await Task.Yield(); return text; }" ;;
          4) echo "    [Remote] public static Dictionary<string, int[]> M$m(Dictionary<string, int[]> map, ObjectRef<int> previous) => map;" ;;
        esac
      done
      cat <<CS
#if RAYGEN
    public static async Task<int> Driver(RayRuntime ray)
    {
        var data = ray.Put(new double[1000]);
        var futures = new List<ObjectRef<int>>();
        for (var i = 0; i < 10; i++)
        {
            futures.Add(Remote.M0(i, i));
            _ = Remote.M1(data, i);
        }

        var actor = Actor$i.Remote(1);
        actor.Inc();
        futures.Add(actor.Add(2));
        var values = await ray.GetAsync(futures);
        return values.Sum();
    }
#endif
}

[Remote]
public partial class Actor$i
{
    private int _value;

    public Actor$i(int start) => _value = start;

    public int Inc() => ++_value;

    public int Add(int amount) => _value += amount;

    public List<Point> Points(List<Point> points) => points;

    public async Task<string> EchoAsync(string text) { await Task.Yield(); return text; }

    public void Reset() => _value = 0;
}
CS
    } > "$dir/Tasks$i.cs"
  done
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

time_builds() {
  local project=$1
  dotnet build "$project" -c Release -p:BuildProjectReferences=false -nologo -v:q > /dev/null   # restore and warm-up
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    dotnet build "$project" -c Release --no-restore --no-incremental -p:BuildProjectReferences=false -nologo -v:q > "$work/build.log" \
      || { cat "$work/build.log"; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | median
}

write_project "$work/with" yes
write_project "$work/without" no
with=$(time_builds "$work/with/Large.csproj")
without=$(time_builds "$work/without/Large.csproj")
echo "machine: $(nproc) cores, $(dotnet --version) SDK"
echo "build without RayGen: ${without} s (median of $runs)"
echo "build with RayGen:    ${with} s (median of $runs)"
dotnet build "$work/with/Large.csproj" -c Release --no-restore --no-incremental -p:BuildProjectReferences=false -p:ReportAnalyzer=true -nologo -v:d > "$work/report.log"
grep -E "Total analyzer execution time|Total generator execution time|Ray\.Generators|MemoryPack\.Generator" "$work/report.log" | sed -E 's/^ +//' | sort -u
