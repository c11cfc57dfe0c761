// The catalog binary: the agency directory, the training catalogue, and the
// consumers that recommend training after attitude complaints and low
// satisfaction scores.
#include <memory>

#include "services/catalog/complaint_consumer.h"
#include "services/catalog/directory_service.h"
#include "services/catalog/satisfaction_consumer.h"
#include "services/catalog/training_service.h"
#include "services/common/events.h"
#include "services/common/metrics.h"
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
        // complaint.filed and satisfaction.element_low -> training
        // recommendations. Started last, so no failure above leaves their
        // threads running; shared because bundle.stop must be copyable.
        auto complaints = std::make_shared<prima::EventConsumer>(
            env.config.redis, env.config.redis_timeout,
            env.metrics.ObserveConsumer(
                prima::catalog::ComplaintConsumerOptions()),
            prima::catalog::MakeComplaintHandler(env.redis, env.clock));
        auto satisfaction = std::make_shared<prima::EventConsumer>(
            env.config.redis, env.config.redis_timeout,
            env.metrics.ObserveConsumer(
                prima::catalog::SatisfactionConsumerOptions()),
            prima::catalog::MakeSatisfactionHandler(env.redis, env.clock));
        complaints->Start();
        satisfaction->Start();
        bundle.stop = [complaints, satisfaction] {
          complaints->Stop();
          satisfaction->Stop();
        };
        return bundle;
      },
      argc, argv);
}
