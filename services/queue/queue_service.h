#pragma once

#include <grpcpp/grpcpp.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/server.h"
#include "services/queue/live_feed.h"

namespace prima::queue {

// The access table of prima.queue.v1.QueueService (the handlers add the
// per-ticket and per-counter rules of queue.proto).
std::vector<RpcPolicy> QueuePolicies();

struct QueueOptions {
  LiveFeed::Options live;
  // How often each replica looks for WAITING tickets past their office's
  // closing time.
  absl::Duration sweep_interval = absl::Seconds(5);
  // How often each replica reads the region's waiting counts into the
  // prima_queue_waiting gauges.
  absl::Duration waiting_metrics_interval = absl::Seconds(15);
};

// The options from PRIMA_QUEUE_MAX_WATCHERS (1-100000),
// PRIMA_QUEUE_HEARTBEAT_SECONDS (1-300), PRIMA_QUEUE_SWEEP_SECONDS (1-3600)
// and PRIMA_QUEUE_METRICS_SECONDS (1-3600); an error names the variable.
absl::StatusOr<QueueOptions> QueueOptionsFromEnv();

// The queue service with what runs beside it (directory cache, live feed,
// expiry sweeper); the bundle's stop() stops them.
absl::StatusOr<ServiceBundle> MakeQueueService(const ServiceEnvironment& env,
                                               const QueueOptions& options);

}  // namespace prima::queue
