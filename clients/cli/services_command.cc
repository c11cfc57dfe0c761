// prima services: the gRPC services each server exposes, via server reflection.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "services/common/reflection_client.h"

namespace prima::cli {
namespace {

struct ServicesOptions {
  std::vector<std::string> servers;  // --service; empty means all four
};

struct Listing {
  ServerAddress server;
  absl::StatusOr<std::vector<std::string>> services;
};

int RunServices(const CliContext& context, const ServicesOptions& options) {
  std::vector<Listing> listings;
  for (ServerAddress& server : context.Servers(options.servers)) {
    listings.push_back({std::move(server), std::vector<std::string>()});
  }
  std::vector<std::function<void()>> work;
  for (Listing& listing : listings) {
    work.push_back([&context, &listing] {
      listing.services = ListServicesByReflection(
          context.NewChannel(listing.server.address), context.timeout());
    });
  }
  RunConcurrently(work);

  Table table({"server", "address", "grpc_service"});
  bool all_ok = true;
  for (const Listing& listing : listings) {
    if (!listing.services.ok()) {
      all_ok = false;
      PrintError(absl::Status(
          listing.services.status().code(),
          absl::StrCat(listing.server.name, " (", listing.server.address,
                       "): ", listing.services.status().message())));
      continue;
    }
    for (const std::string& service : *listing.services) {
      table.AddRow({listing.server.name, listing.server.address, service});
    }
  }
  table.Print(context.output());
  return all_ok ? 0 : 1;
}

}  // namespace

void AddServicesCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<ServicesOptions>();
  CLI::App* services = app.add_subcommand(
      "services", "List each server's gRPC services (server reflection)");
  services
      ->add_option("--service", options->servers,
                   "ask only this server (repeatable)")
      ->check(CLI::IsMember(ServerNames()));
  services->callback([&context, options] {
    context.action = [&context, options] {
      return RunServices(context, *options);
    };
  });
}

}  // namespace prima::cli
