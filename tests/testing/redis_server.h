#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/config.h"
#include "services/common/redis_value.h"
#include "services/common/sync_redis.h"

namespace prima::testing {

// A `redis-server` child process (a Redis or a Sentinel) and the test's own
// connection to it: what TestRedis and TestSentinel both run.
class RedisProcess {
 public:
  RedisProcess() = default;
  ~RedisProcess() { Stop(SIGTERM); }
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // Stops the process it ran before, if any; starts `redis-server ARGS...`
  // and polls `endpoint` with PING until it answers, the process exits or
  // 10 s pass; `what` names it in errors.
  absl::Status Start(std::vector<std::string> args,
                     const RedisEndpoint& endpoint, absl::string_view what);
  // Sends `signal`, waits for the process and drops the connection; nothing
  // when it is not running.
  void Stop(int signal);
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& args);

 private:
  pid_t pid_ = -1;
  std::unique_ptr<SyncRedis> admin_;
};

// A real redis-server on a free loopback port with its data in a fresh temp
// dir, for one test binary. Stopped and removed on destruction.
class TestRedis {
 public:
  struct Options {
    bool append_only = false;
    // Clients must AUTH with it (a replica also uses it towards its primary).
    std::string requirepass;
    // When positive, starts as a replica of 127.0.0.1:replica_of_port.
    int replica_of_port = 0;
  };
  static absl::StatusOr<std::unique_ptr<TestRedis>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<TestRedis>> Start() {
    return Start(Options{});
  }
  ~TestRedis();

  int port() const { return port_; }
  // With the password when requirepass is set.
  RedisEndpoint endpoint() const;
  std::string url() const;

  // A command on the test's own connection, for setup and assertions.
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& args);

  // The envelopes on a producer's event stream (EventStreamKey), oldest
  // first; with `type`, only the events of that type.
  absl::StatusOr<std::vector<prima::events::v1::EventEnvelope>> Events(
      absl::string_view producer, absl::string_view type = "");

  // Turns on the append-only file at run time (appendfsync always) and waits
  // until its first rewrite is done, so later writes are all in the file.
  absl::Status EnableAppendOnly();
  // Where `text` is stored: the names of the keys whose name or any value
  // (string, hash, list, set, sorted set, stream) contains it, and
  // "append-only file <name>" for each AOF file that does. Empty: nowhere.
  absl::StatusOr<std::vector<std::string>> WhereStored(absl::string_view text);

  // SIGKILL, as a crash would.
  void Kill();
  // Starts again on the same port and directory (AOF data survives when
  // enabled).
  absl::Status Restart();
  // SHUTDOWN NOSAVE and wait for the process.
  void Stop();

 private:
  TestRedis() = default;
  absl::Status Launch();

  Options options_;
  std::string dir_;
  int port_ = 0;
  RedisProcess process_;
};

// A free TCP port on 127.0.0.1 (bound once and released).
int FreePort();

}  // namespace prima::testing
