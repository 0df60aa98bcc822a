using System.CommandLine;
using Proactive.Cli.Commands;

var root = new RootCommand("proactive: a proactively secure threshold key and secret service.");
root.Subcommands.Add(FrostDemoCommand.Create());
return root.Parse(args).Invoke();
