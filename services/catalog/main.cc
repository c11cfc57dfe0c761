// The catalog binary: the agency directory, the training catalogue, and the
// consumer that recommends training after attitude complaints.
#include <memory>

#include "services/catalog/complaint_consumer.h"
#include "services/catalog/directory_service.h"
#include "services/catalog/training_service.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"
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
        // complaint.filed -> training recommendations. Started last, so no
        // failure above leaves its thread running; shared because
        // bundle.stop must be copyable.
        auto complaints = std::make_shared<prima::EventConsumer>(
            env.config.redis, env.config.redis_timeout,
            prima::catalog::ComplaintConsumerOptions(),
            prima::catalog::MakeComplaintHandler(env.redis, env.clock));
        complaints->Start();
        bundle.stop = [complaints] { complaints->Stop(); };
        return bundle;
      },
      argc, argv);
}
