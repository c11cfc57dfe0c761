// prima health: the standard gRPC health check ("" = the whole server) on each
// server.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/rpc.h"

namespace prima::cli {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

struct HealthOptions {
  std::vector<std::string> servers;  // --service; empty means all four
};

struct CheckResult {
  ServerAddress server;
  std::string status;  // SERVING, NOT_SERVING, ... or UNREACHABLE
  grpc::Status error;
};

int RunHealth(const CliContext& context, const HealthOptions& options) {
  std::vector<CheckResult> results;
  for (ServerAddress& server : context.Servers(options.servers)) {
    results.push_back({std::move(server), "", grpc::Status::OK});
  }
  std::vector<std::function<void()>> checks;
  for (CheckResult& result : results) {
    checks.push_back([&context, &result] {
      auto stub = Health::NewStub(context.NewChannel(result.server.address));
      grpc::ClientContext call;
      context.PrepareContext(&call);
      HealthCheckRequest request;  // service "": the server as a whole
      HealthCheckResponse response;
      result.error = stub->Check(&call, request, &response);
      result.status =
          result.error.ok()
              ? HealthCheckResponse::ServingStatus_Name(response.status())
              : "UNREACHABLE";
    });
  }
  RunConcurrently(checks);

  Table table({"service", "address", "status", "error"});
  bool all_serving = true;
  for (const CheckResult& result : results) {
    std::string error;
    if (!result.error.ok()) {
      error = absl::StrCat(
          absl::StatusCodeToString(FromGrpcStatus(result.error).code()), ": ",
          result.error.error_message());
      PrintError(absl::Status(
          FromGrpcStatus(result.error).code(),
          absl::StrCat(result.server.name, " (", result.server.address,
                       "): ", result.error.error_message())));
    }
    if (result.status != "SERVING") all_serving = false;
    table.AddRow(
        {result.server.name, result.server.address, result.status, error});
  }
  table.Print(context.output());
  return all_serving ? 0 : 1;
}

}  // namespace

void AddHealthCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<HealthOptions>();
  CLI::App* health = app.add_subcommand(
      "health",
      "Check the gRPC health of the servers; exits 0 only if all are SERVING");
  health
      ->add_option("--service", options->servers,
                   "check only this server (repeatable)")
      ->check(CLI::IsMember(ServerNames()));
  health->callback([&context, options] {
    context.action = [&context, options] {
      return RunHealth(context, *options);
    };
  });
}

}  // namespace prima::cli
