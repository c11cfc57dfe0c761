// The catalog binary: the agency directory and the training catalogue.
#include "services/common/server.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "catalog", 50051,
      [](const prima::ServiceEnvironment& env)
          -> absl::StatusOr<prima::ServiceBundle> {
        prima::ServiceBundle bundle;
        // DirectoryService: added by the directory work.
        // TrainingService: added by the training work.
        return bundle;
      },
      argc, argv);
}
