// prima: the command-line client of the Prima services. Subcommands live in
// <name>_command.cc files; this file only parses and dispatches.

#include <CLI/CLI.hpp>

#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"

namespace {

constexpr prima::cli::AddCommandFn kCommands[] = {
    prima::cli::AddHealthCommand,    prima::cli::AddServicesCommand,
    prima::cli::AddTokenCommand,     prima::cli::AddDirectoryCommand,
    prima::cli::AddTrainingCommands, prima::cli::AddQueueCommand,
    prima::cli::AddComplaintCommand, prima::cli::AddSurveyCommand,
    prima::cli::AddScoreCommand,
};

}  // namespace

int main(int argc, char** argv) {
  prima::cli::CliContext context;
  CLI::App app("prima: command-line client of the Prima services", "prima");
  // Global flags are accepted after the subcommand too: `prima health --timeout
  // 2`.
  app.fallthrough();
  app.require_subcommand(1);
  context.AddGlobalFlags(app);
  for (prima::cli::AddCommandFn add : kCommands) add(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints usage and exits 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!context.action) return 2;
  return context.action();
}
