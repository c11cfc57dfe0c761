#pragma once

// The process's Prometheus metrics (prometheus-cpp): one registry, and the
// /metrics endpoint on PRIMA_METRICS_LISTEN. Nothing outside metrics.cc sees
// the library: the gRPC interceptor, RedisClient, EventConsumer and the
// services report through the small calls below. docs/metrics.md lists every
// metric.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"

namespace prima {

// The waiting count of one service queue of one office.
struct QueueWaitingCount {
  std::string office;
  std::string service;
  int64_t waiting = 0;
};

class Metrics {
 public:
  // Serves /metrics on `listen` (host:port; port 0 picks a free one), or on
  // nothing when `listen` is kMetricsOff (the calls below still work). Fails
  // when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(
      absl::string_view listen);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The bound port; 0 when off.
  int port() const { return port_; }

  // ---- RPCs (the server interceptor) ----
  // The series of one gRPC method. Methods this binary does not know share
  // one "unknown" series, so a client cannot invent label values.
  class RpcMethod;
  RpcMethod& Method(absl::string_view full_method);
  void RpcStarted(RpcMethod& method);
  void RpcFinished(RpcMethod& method, int grpc_code, absl::Duration elapsed);

  // ---- Redis ----
  // Hooks `options.on_command_done` to the Redis metrics.
  void ObserveRedis(RedisClient::Options& options);
  // From RedisClient's on_usable_change: the connected gauge, and a reconnect
  // each time the connection comes back.
  void RedisUsableChanged(bool usable);

  // ---- events ----
  // `options` with on_lag and on_dead_letter reporting to the series of its
  // stream and group.
  ConsumerOptions ObserveConsumer(ConsumerOptions options);

  // ---- queue ----
  // Replaces the waiting gauges: series absent from `counts` are removed.
  void SetQueueWaiting(const std::vector<QueueWaitingCount>& counts);
  void SetLiveWatchers(int watchers);

 private:
  struct Families;
  Metrics();

  std::unique_ptr<Families> families_;
  int port_ = 0;
  std::atomic<bool> was_usable_{false};
};

}  // namespace prima
