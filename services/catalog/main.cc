// The catalog binary. Until its service issue lands it serves health and
// reflection only.
#include "services/common/server.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "catalog", 50051,
      [](const prima::ServiceEnvironment&)
          -> absl::StatusOr<prima::ServiceBundle> {
        return prima::ServiceBundle{};
      },
      argc, argv);
}
