// The satisfaction binary: survey templates, invitations, responses and the
// scores read from their aggregates, with the consumers of the queue's and
// complaints' events.
#include "services/common/server.h"
#include "services/satisfaction/satisfaction_service.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "satisfaction", 50054,
      [](const prima::ServiceEnvironment& env)
          -> absl::StatusOr<prima::ServiceBundle> {
        absl::StatusOr<prima::satisfaction::SatisfactionOptions> options =
            prima::satisfaction::SatisfactionOptionsFromEnv();
        if (!options.ok()) return options.status();
        return prima::satisfaction::MakeSatisfactionService(env, *options);
      },
      argc, argv);
}
