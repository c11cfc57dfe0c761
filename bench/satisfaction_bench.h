#pragma once

// prima-bench satisfaction-fill: stores SKM responses for the satisfaction
// targets to read, written straight through the store's script, because
// submitting a million through gRPC takes hours on a small machine.

#include <cstdint>
#include <string>

namespace prima::bench {

struct SatisfactionFillOptions {
  std::string redis_url;
  int64_t responses = 10000;
  // The demo office of ./scripts/load-demo, as the satisfaction targets use.
  std::string agency = "dukcapil-dki";
  std::string office = "dukcapil-jaksel";
  std::string service = "ktp-el";
  // Spread over the last `days` days of the current month in Asia/Jakarta,
  // today included, never before the 1st: satisfaction-index reads the
  // office's current month, which then holds every response.
  int days = 1;
};

// Writes `responses` kiosk SKM responses (one kiosk, no rate limit; answers
// U1..U9 spread over 1-4) through SatisfactionStore::SubmitResponse, 256
// outstanding, and prints the rate, used_memory per response and Redis's own
// time per script (INFO commandstats).
int RunSatisfactionFill(const SatisfactionFillOptions& options);

}  // namespace prima::bench
