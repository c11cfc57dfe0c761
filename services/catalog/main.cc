// The catalog binary: the agency directory and the training catalogue.
#include "services/catalog/directory_service.h"
#include "services/catalog/training_service.h"
#include "services/common/server.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "catalog", 50051,
      [](const prima::ServiceEnvironment& env)
          -> absl::StatusOr<prima::ServiceBundle> {
        prima::ServiceBundle bundle;
        // DirectoryService.
        auto directory = prima::catalog::MakeDirectoryService(env);
        if (!directory.ok()) return directory.status();
        bundle.services.push_back(std::move(*directory));
        // TrainingService.
        bundle.services.push_back(prima::catalog::MakeTrainingService(env));
        return bundle;
      },
      argc, argv);
}
