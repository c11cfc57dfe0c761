#pragma once

#include "clients/cli/cli_context.h"

namespace CLI {
class App;
}

namespace prima::cli {

// Each subcommand lives in a file of its own and registers itself on the
// top-level app here. To add one: write <name>_command.cc with an
// Add<Name>Command, declare it below, list it in kCommands in main.cc and in
// CMakeLists.txt.
using AddCommandFn = void (*)(CLI::App& app, CliContext& context);

void AddHealthCommand(CLI::App& app, CliContext& context);    // prima health
void AddServicesCommand(CLI::App& app, CliContext& context);  // prima services
void AddTokenCommand(CLI::App& app, CliContext& context);  // prima token mint
void AddDirectoryCommand(CLI::App& app,
                         CliContext& context);  // prima directory
// prima
// courses|offerings|enroll|complete|certificate|training-record|compliance
void AddTrainingCommands(CLI::App& app, CliContext& context);
void AddQueueCommand(CLI::App& app, CliContext& context);  // prima queue
void AddComplaintCommand(CLI::App& app,
                         CliContext& context);              // prima complaint
void AddSurveyCommand(CLI::App& app, CliContext& context);  // prima survey
void AddScoreCommand(CLI::App& app, CliContext& context);   // prima score

}  // namespace prima::cli
