#pragma once

#include <string>

#include "absl/time/time.h"

namespace prima::bench {

struct RedisBenchOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  int concurrency = 256;
  absl::Duration duration = absl::Seconds(5);
  // "ping", or "ticket": an IssueTicket-shaped idempotent script (INCR, HSET,
  // ZADD, XADD, idempotency record) in one EVALSHA.
  std::string script = "ticket";
};

// Drives the shared RedisClient directly with `concurrency` outstanding
// commands and prints commands/s and latency: the ceiling the Redis layer puts
// under a service.
int RunRedisBench(const RedisBenchOptions& options);

}  // namespace prima::bench
