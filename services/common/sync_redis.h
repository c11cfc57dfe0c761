#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/lua_script.h"
#include "services/common/redis_value.h"

struct redisContext;

namespace prima {

// A blocking Redis connection for background workers (event consumers,
// sweepers) that own a thread. Never use it on a gRPC thread: handlers use
// RedisClient. Not thread-safe. Reconnects on the next command after any
// failure or READONLY reply; with Sentinels in the endpoint, each reconnect
// asks them for the primary (each bounded by the timeout) and checks ROLE, and
// a command more than kPrimaryRecheck after the last lookup asks again first,
// so a failover is followed within about that long (a demoted primary keeps
// accepting writes until the Sentinel reconfigures it, ~10 s later).
class SyncRedis {
 public:
  static constexpr absl::Duration kPrimaryRecheck = absl::Seconds(1);

  SyncRedis(RedisEndpoint endpoint, absl::Duration timeout);
  ~SyncRedis();
  SyncRedis(const SyncRedis&) = delete;
  SyncRedis& operator=(const SyncRedis&) = delete;

  // Error replies become statuses (StatusFromRedisError); I/O failures and
  // timeouts UNAVAILABLE. `extra_timeout` extends the read timeout (for BLOCK
  // commands).
  absl::StatusOr<RedisValue> Command(
      const std::vector<std::string>& args,
      absl::Duration extra_timeout = absl::ZeroDuration());

  // EVALSHA, falling back to EVAL when Redis does not know the script.
  absl::StatusOr<RedisValue> Eval(const LuaScript& script,
                                  const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);

  // Drops the connection (tests; after a failure).
  void Disconnect();

 private:
  absl::Status EnsureConnected();
  // Drops the connection when the Sentinels now name another primary.
  void RecheckPrimary();
  // Like Command, but error replies come back as kError values.
  absl::StatusOr<RedisValue> Raw(const std::vector<std::string>& args,
                                 absl::Duration extra_timeout);

  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  // A connection to `address` with the timeout set; UNAVAILABLE otherwise.
  static absl::StatusOr<ContextPtr> Dial(const HostPort& address,
                                         absl::Duration timeout);
  // The primary's address from the first Sentinel that names it.
  absl::StatusOr<HostPort> PrimaryFromSentinels() const;

  RedisEndpoint endpoint_;
  absl::Duration timeout_;
  ContextPtr context_;
  HostPort address_;  // of context_
  absl::Time primary_checked_ = absl::InfinitePast();
};

}  // namespace prima
