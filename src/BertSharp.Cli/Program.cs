using System.CommandLine;
using BertSharp.Cli;
using BertSharp.Cli.Commands;

var root = new RootCommand("BertSharp: fine-tune and use BERT for text classification with TorchSharp.");
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(CheckDeviceCommand.Create());
root.Subcommands.Add(ChartsCommand.Create());
#if !SLIM
root.Subcommands.Add(NotebookCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
#endif
return CliRunner.Run(root, args);
