using System.CommandLine;
using Proactive.Cli.Commands;
using Proactive.Cli.Commands.Cluster;

var root = new RootCommand("proactive: a proactively secure threshold key and secret service.");
root.Subcommands.Add(FrostDemoCommand.Create());
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(ProvisionCommand.Create());
root.Subcommands.Add(ConfigCommand.Create());
root.Subcommands.Add(NodeCommand.Create());
root.Subcommands.Add(ClusterCommand.Create());
root.Subcommands.Add(TimeCommand.Create());
root.Subcommands.Add(RandomCommand.Create());
root.Subcommands.Add(AppCommand.Create());
foreach (var command in DataCommands.Create())
{
    root.Subcommands.Add(command);
}

root.Subcommands.Add(KeyCommands.CreateKey());
root.Subcommands.Add(KeyCommands.CreateSign());
root.Subcommands.Add(KeyCommands.CreateVerify());
root.Subcommands.Add(PeriodKeyCommand.Create());
root.Subcommands.Add(CommunicationCommands.CreateLink());
root.Subcommands.Add(CommunicationCommands.CreateJointSecret());
root.Subcommands.Add(new Command("bench", "Measure a running network.") { AppBenchCommand.Create() });
var parse = root.Parse(args);
var exit = parse.Invoke();

// Usage errors (unknown options, bad values) exit 2, like the commands' own parameter checks.
return parse.Errors.Count > 0 ? 2 : exit;
