// The complaint binary. Until its service issue lands it serves health and
// reflection only.
#include "services/common/server.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "complaint", 50053,
      [](const prima::ServiceEnvironment&)
          -> absl::StatusOr<prima::ServiceBundle> {
        return prima::ServiceBundle{};
      },
      argc, argv);
}
