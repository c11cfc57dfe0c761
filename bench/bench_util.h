#pragma once

// Helpers the prima-bench subcommands share.

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/sync_redis.h"

namespace prima::bench {

// Prints `error: <CODE>: <message>` to stderr and returns the exit status 1.
int Fail(const absl::Status& status);

// Runs op(i, done) for i in [0, n) with at most `window` outstanding; `done`
// takes whether op i succeeded. Returns the failures.
int64_t Pipelined(
    int64_t n, int window,
    const std::function<void(int64_t, std::function<void(bool)>)>& op);

// The nearest-rank percentile p (0..1) of sorted values; 0 when empty.
double Percentile(const std::vector<double>& sorted, double p);

// Redis's used_memory (INFO memory), in bytes.
absl::StatusOr<int64_t> UsedMemory(SyncRedis& redis);

// One command's totals since Redis started (or CONFIG RESETSTAT), from INFO
// commandstats; zero when it never ran.
struct CommandStats {
  int64_t calls = 0;
  int64_t usec = 0;  // time Redis spent executing them
};
absl::StatusOr<CommandStats> CommandStatsOf(SyncRedis& redis,
                                            absl::string_view command);

}  // namespace prima::bench
