// prima token mint: a development HS256 token, printed alone on stdout.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "services/common/auth.h"

namespace prima::cli {
namespace {

struct MintOptions {
  std::string secret;
  std::string agency;
  std::vector<std::string> roles;
  std::string subject = "dev";
  std::string ttl = "1h";
  std::string issuer;
  std::string audience = "prima";
};

int RunMint(const MintOptions& options) {
  MintRequest request;
  if (!absl::ParseDuration(options.ttl, &request.ttl)) {
    return PrintError(absl::InvalidArgumentError(
        absl::StrCat("--ttl: \"", options.ttl,
                     "\" is not a duration such as 90m, 1h, 3600s")));
  }
  request.secret = options.secret;
  request.subject = options.subject;
  request.agency = options.agency;
  request.roles = options.roles;
  request.issuer = options.issuer;
  request.audience = options.audience;
  request.now = absl::Now();
  absl::StatusOr<std::string> token = MintHs256Token(request);
  if (!token.ok()) return PrintError(token.status());
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace

void AddTokenCommand(CLI::App& app, CliContext& context) {
  CLI::App* token = app.add_subcommand("token", "Development tokens");
  token->require_subcommand(1);

  auto options = std::make_shared<MintOptions>();
  CLI::App* mint = token->add_subcommand(
      "mint",
      "Mint an HS256 token for local use and tests; prints only the token");
  mint->add_option("--secret", options->secret,
                   "HS256 key shared with the services (at least 32 bytes)")
      ->envname("PRIMA_JWT_SECRET")
      ->required();
  mint->add_option("--agency", options->agency,
                   "`agency` claim (a region_admin may have none)");
  mint->add_option("--role", options->roles,
                   "`roles` claim: citizen, officer, supervisor, agency_admin, "
                   "region_admin (repeatable)")
      ->required()
      ->check(CLI::IsMember({"citizen", "officer", "supervisor", "agency_admin",
                             "region_admin"}));
  mint->add_option("--sub", options->subject,
                   "`sub` claim: the officer id for staff")
      ->capture_default_str();
  mint->add_option("--ttl", options->ttl, "lifetime: 90m, 1h, 3600s, ...")
      ->capture_default_str();
  mint->add_option("--issuer", options->issuer,
                   "`iss` claim (omitted if empty)")
      ->envname("PRIMA_JWT_ISSUER");
  mint->add_option("--audience", options->audience, "`aud` claim")
      ->envname("PRIMA_JWT_AUDIENCE")
      ->capture_default_str();
  mint->callback([&context, options] {
    context.action = [options] { return RunMint(*options); };
  });
}

}  // namespace prima::cli
