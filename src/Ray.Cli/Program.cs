using System.CommandLine;
using Ray.Cli;

var root = new RootCommand("raygen: the nodes of a RayGen cluster. Start a head with 'raygen start --head', join nodes with 'raygen start --address HOST:PORT'.")
{
    StartCommand.Create(),
    StopCommand.Create(),
    StatusCommand.Create(),
    ReplayCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
