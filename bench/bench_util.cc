#include "bench/bench_util.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/blocking_counter.h"
#include "services/common/redis_value.h"

namespace prima::bench {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "error: %s: %s\n",
               absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  return 1;
}

int64_t Pipelined(
    int64_t n, int window,
    const std::function<void(int64_t, std::function<void(bool)>)>& op) {
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> failures{0};
  absl::BlockingCounter finished(static_cast<int>(n));
  std::function<void()> start = [&] {
    const int64_t i = next.fetch_add(1);
    if (i >= n) return;
    op(i, [&](bool ok) {
      if (!ok) failures.fetch_add(1);
      start();
      finished.DecrementCount();
    });
  };
  for (int i = 0; i < window; ++i) start();
  finished.Wait();
  return failures.load();
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(p * sorted.size()))];
}

absl::StatusOr<int64_t> UsedMemory(SyncRedis& redis) {
  absl::StatusOr<RedisValue> info = redis.Command({"INFO", "memory"});
  if (!info.ok()) return info.status();
  for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
    int64_t value = 0;
    if (absl::ConsumePrefix(&line, "used_memory:") &&
        absl::SimpleAtoi(line, &value)) {
      return value;
    }
  }
  return absl::InternalError("INFO memory: no used_memory");
}

absl::StatusOr<CommandStats> CommandStatsOf(SyncRedis& redis,
                                            absl::string_view command) {
  absl::StatusOr<RedisValue> info = redis.Command({"INFO", "commandstats"});
  if (!info.ok()) return info.status();
  // cmdstat_<command>:calls=N,usec=U,usec_per_call=X,...
  const std::string prefix = absl::StrCat("cmdstat_", command, ":");
  CommandStats stats;
  for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    for (absl::string_view field : absl::StrSplit(line, ',')) {
      int64_t* into = nullptr;
      if (absl::ConsumePrefix(&field, "calls=")) {
        into = &stats.calls;
      } else if (absl::ConsumePrefix(&field, "usec=")) {
        into = &stats.usec;
      }
      if (into != nullptr && !absl::SimpleAtoi(field, into)) {
        return absl::InternalError(
            absl::StrCat("INFO commandstats: unexpected ", prefix, line));
      }
    }
  }
  return stats;
}

}  // namespace prima::bench
