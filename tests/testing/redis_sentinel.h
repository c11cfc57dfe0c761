#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/redis_value.h"
#include "services/common/sync_redis.h"
#include "tests/testing/redis_server.h"

namespace prima::testing {

// A real Redis Sentinel (`redis-server <conf> --sentinel`) on a loopback port,
// its config written to a fresh temp dir, monitoring one master with a quorum
// of 1 and short failure timings. Stopped and removed on destruction.
class TestSentinel {
 public:
  struct Options {
    std::string master_name = "prima";
    int master_port = 0;          // on 127.0.0.1
    std::string master_password;  // the monitored Redis's requirepass
    std::string requirepass;      // of the Sentinel itself
    int port = 0;                 // 0 picks a free one
  };
  static absl::StatusOr<std::unique_ptr<TestSentinel>> Start(Options options);
  ~TestSentinel();

  int port() const { return port_; }
  // "127.0.0.1:<port>", as PRIMA_REDIS_SENTINELS takes it.
  std::string address() const;
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& args);
  // The port of the primary the Sentinel names now.
  absl::StatusOr<int> PrimaryPort();

  // SIGTERM and wait; Restart starts it again on the same port and config
  // (which the Sentinel has rewritten with what it learned).
  void Stop();
  absl::Status Restart();

 private:
  TestSentinel() = default;
  absl::Status Launch();

  Options options_;
  std::string dir_;
  int port_ = 0;
  RedisProcess process_;
};

// A primary, one replica of it and a Sentinel monitoring them as "prima":
// what the high-availability component deploys, on loopback.
class TestSentinelGroup {
 public:
  struct Options {
    std::string password;           // requirepass of both Redis servers
    std::string sentinel_password;  // requirepass of the Sentinel
  };
  // Returns once the replica is in sync and the Sentinel answers.
  static absl::StatusOr<std::unique_ptr<TestSentinelGroup>> Start(
      Options options);
  static absl::StatusOr<std::unique_ptr<TestSentinelGroup>> Start() {
    return Start(Options{});
  }

  TestSentinel& sentinel() { return *sentinel_; }
  // What a service following the Sentinel is configured with; host and port
  // point nowhere, so a test passes only if the Sentinel is asked.
  RedisEndpoint endpoint() const;
  // The server the Sentinel names as primary now, and the other one.
  absl::StatusOr<TestRedis*> Primary();
  absl::StatusOr<TestRedis*> Replica();

  // SENTINEL FAILOVER, retried until the Sentinel accepts it (it needs to
  // have seen the replica first), then waits until it names the other server
  // and that server says it is master. Returns the new primary.
  absl::StatusOr<TestRedis*> Failover(absl::Duration timeout);

 private:
  TestSentinelGroup() = default;

  Options options_;
  std::vector<std::unique_ptr<TestRedis>>
      servers_;  // started as primary, replica
  std::unique_ptr<TestSentinel> sentinel_;
};

}  // namespace prima::testing
