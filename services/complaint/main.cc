// The complaint binary: filing, tracking and handling complaints, with the
// deadline sweeper.
#include "services/common/server.h"
#include "services/complaint/complaint_service.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "complaint", 50053,
      [](const prima::ServiceEnvironment& env)
          -> absl::StatusOr<prima::ServiceBundle> {
        absl::StatusOr<prima::complaint::ComplaintOptions> options =
            prima::complaint::ComplaintOptionsFromEnv();
        if (!options.ok()) return options.status();
        return prima::complaint::MakeComplaintService(env, *options);
      },
      argc, argv);
}
