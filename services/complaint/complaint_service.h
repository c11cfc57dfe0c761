#pragma once

// The gRPC adapter of prima.complaint.v1.ComplaintService: validation, access,
// directory lookups and proto mapping around complaint_flow (decisions) and
// complaint_store (Redis), plus the deadline sweeper that runs beside it.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/server.h"

namespace prima::complaint {

// The access table of the service (the handlers add complaint.proto's
// per-complaint rules: handling agency, reporter).
std::vector<RpcPolicy> ComplaintPolicies();

struct ComplaintOptions {
  // How often each replica looks for deadlines that passed.
  absl::Duration sweep_interval = absl::Seconds(30);
  // Deadlines handled per sweep round at most.
  int sweep_batch = 500;
};

// The options from PRIMA_COMPLAINT_SWEEP_SECONDS (1-3600); an error names the
// variable.
absl::StatusOr<ComplaintOptions> ComplaintOptionsFromEnv();

// The complaint service with its directory cache and deadline sweeper; the
// bundle's stop() stops them.
absl::StatusOr<ServiceBundle> MakeComplaintService(
    const ServiceEnvironment& env, const ComplaintOptions& options);

}  // namespace prima::complaint
