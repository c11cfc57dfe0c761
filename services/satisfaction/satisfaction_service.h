#pragma once

// The gRPC adapter of prima.satisfaction.v1.SatisfactionService: validation,
// access, directory lookups and proto mapping around satisfaction_rules
// (scoring) and satisfaction_store (Redis).

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/server.h"

namespace prima::satisfaction {

// The access table of the service.
std::vector<RpcPolicy> SatisfactionPolicies();

struct SatisfactionOptions {
  // Responses ExportResponses reads from Redis at a time (1-500): how many a
  // slow reader keeps in memory.
  int export_page_size = 500;
  // Responses one registered kiosk may submit per minute.
  int kiosk_per_minute = 10;
  // How long an invitation can be answered.
  absl::Duration invitation_ttl = absl::Hours(24 * 7);
  // How often each replica looks for offices whose month closed, to emit
  // satisfaction.element_low for their low elements.
  absl::Duration sweep_interval = absl::Minutes(5);
};

// The options from PRIMA_SATISFACTION_KIOSK_PER_MINUTE (1-600),
// PRIMA_SATISFACTION_INVITATION_DAYS (1-90) and
// PRIMA_SATISFACTION_SWEEP_SECONDS (1-86400); an error names the variable.
absl::StatusOr<SatisfactionOptions> SatisfactionOptionsFromEnv();

// The satisfaction service with its directory cache, event consumers and
// closed-month sweeper; the bundle's stop() stops them.
absl::StatusOr<ServiceBundle> MakeSatisfactionService(
    const ServiceEnvironment& env, const SatisfactionOptions& options);

}  // namespace prima::satisfaction
