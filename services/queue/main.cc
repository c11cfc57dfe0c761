// The queue binary: tickets, counters, appointments, boards and statistics.
#include "services/common/server.h"
#include "services/queue/queue_service.h"

int main(int argc, char** argv) {
  return prima::RunServiceMain(
      "queue", 50052,
      [](const prima::ServiceEnvironment& env)
          -> absl::StatusOr<prima::ServiceBundle> {
        absl::StatusOr<prima::queue::QueueOptions> options =
            prima::queue::QueueOptionsFromEnv();
        if (!options.ok()) return options.status();
        return prima::queue::MakeQueueService(env, *options);
      },
      argc, argv);
}
