#include "services/common/metrics.h"

#include <google/protobuf/descriptor.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <exception>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "services/common/config.h"

namespace prima {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr int kGrpcCodes = 17;  // OK .. UNAUTHENTICATED
constexpr char kUnknownMethod[] = "unknown";

// 0.5 ms .. 10 s: a cached read is ~1 ms, a drained call ends at 10 s.
const Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return *buckets;
}

// 0.1 ms .. 2.5 s: a command is ~0.1-1 ms; the default timeout is 2 s.
const Histogram::BucketBoundaries& RedisBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  return *buckets;
}

// Whether "/package.Service/Method" names a method this binary was built
// with (its descriptor is linked in) or the health service's.
bool KnownMethod(absl::string_view full_method) {
  if (full_method == "/grpc.health.v1.Health/Check" ||
      full_method == "/grpc.health.v1.Health/Watch") {
    return true;
  }
  if (full_method.size() < 4 || full_method[0] != '/') return false;
  const std::string dotted =
      absl::StrReplaceAll(full_method.substr(1), {{"/", "."}});
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
             dotted) != nullptr;
}

}  // namespace

class Metrics::RpcMethod {
 public:
  RpcMethod(std::string name, Family<Counter>& requests, Histogram& duration,
            Gauge& in_flight)
      : name_(std::move(name)),
        requests_(requests),
        duration_(duration),
        in_flight_(in_flight) {}

  void Started() { in_flight_.Increment(); }
  void Finished(int code, absl::Duration elapsed) {
    in_flight_.Decrement();
    duration_.Observe(absl::ToDoubleSeconds(elapsed));
    if (code < 0 || code >= kGrpcCodes) code = 2;  // UNKNOWN
    Counter* counter = by_code_[code].load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Family::Add returns the same series for the same labels, so racing
      // threads store the same pointer.
      counter = &requests_.Add(
          {{"method", name_},
           {"code",
            absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}});
      by_code_[code].store(counter, std::memory_order_release);
    }
    counter->Increment();
  }

 private:
  const std::string name_;
  Family<Counter>& requests_;
  Histogram& duration_;
  Gauge& in_flight_;
  std::array<std::atomic<Counter*>, kGrpcCodes> by_code_{};
};

struct Metrics::Families {
  std::shared_ptr<prometheus::Registry> registry =
      std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;

  Family<Counter>& rpc_requests =
      prometheus::BuildCounter()
          .Name("prima_rpc_requests_total")
          .Help("gRPC calls finished, by full method name and status code")
          .Register(*registry);
  Family<Histogram>& rpc_duration =
      prometheus::BuildHistogram()
          .Name("prima_rpc_duration_seconds")
          .Help("gRPC call duration from arrival to status, by method")
          .Register(*registry);
  Family<Gauge>& rpc_in_flight =
      prometheus::BuildGauge()
          .Name("prima_rpc_in_flight")
          .Help("gRPC calls in progress (open streams too), by method")
          .Register(*registry);

  Histogram& redis_duration =
      prometheus::BuildHistogram()
          .Name("prima_redis_command_duration_seconds")
          .Help("Redis command time from submission to answer")
          .Register(*registry)
          .Add({}, RedisBuckets());
  Family<Counter>& redis_errors =
      prometheus::BuildCounter()
          .Name("prima_redis_errors_total")
          .Help(
              "Redis commands that failed, by kind: timeout, "
              "connection_lost, reply_error")
          .Register(*registry);
  Counter& redis_timeouts = redis_errors.Add({{"kind", "timeout"}});
  Counter& redis_lost = redis_errors.Add({{"kind", "connection_lost"}});
  Counter& redis_reply_errors = redis_errors.Add({{"kind", "reply_error"}});
  Counter& redis_reconnects =
      prometheus::BuildCounter()
          .Name("prima_redis_reconnects_total")
          .Help("Times the Redis connection became usable again after a loss")
          .Register(*registry)
          .Add({});
  Gauge& redis_connected =
      prometheus::BuildGauge()
          .Name("prima_redis_connected")
          .Help("1 while the Redis connection is usable, else 0")
          .Register(*registry)
          .Add({});

  Family<Gauge>& consumer_lag =
      prometheus::BuildGauge()
          .Name("prima_event_consumer_lag")
          .Help(
              "Stream entries not yet delivered to the consumer group "
              "(XINFO GROUPS lag), sampled every 15 s")
          .Register(*registry);
  Family<Counter>& dead_letters =
      prometheus::BuildCounter()
          .Name("prima_event_dead_letters_total")
          .Help("Events moved to the dead-letter stream by this replica")
          .Register(*registry);

  Family<Gauge>& queue_waiting =
      prometheus::BuildGauge()
          .Name("prima_queue_waiting")
          .Help(
              "WAITING tickets per office and service in the region "
              "(read from Redis, the same on every replica)")
          .Register(*registry);
  Gauge& live_watchers = prometheus::BuildGauge()
                             .Name("prima_live_watchers")
                             .Help(
                                 "Open WatchTicket and WatchOffice streams "
                                 "on this replica")
                             .Register(*registry)
                             .Add({});

  absl::Mutex methods_mu;
  absl::flat_hash_map<std::string, std::unique_ptr<RpcMethod>> methods
      ABSL_GUARDED_BY(methods_mu);

  absl::Mutex waiting_mu;
  absl::flat_hash_map<std::pair<std::string, std::string>, Gauge*> waiting
      ABSL_GUARDED_BY(waiting_mu);
};

Metrics::Metrics() : families_(std::make_unique<Families>()) {}

Metrics::~Metrics() {
  // Stop serving before the families go.
  families_->exposer.reset();
}

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(
    absl::string_view listen) {
  std::unique_ptr<Metrics> metrics(new Metrics());
  if (listen == kMetricsOff) return metrics;
  try {
    // One serving thread: a scrape every few seconds needs no more.
    metrics->families_->exposer =
        std::make_unique<prometheus::Exposer>(std::string(listen), 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(kEnvMetricsListen,
                                               ": cannot serve metrics on ",
                                               listen, ": ", e.what()));
  }
  metrics->families_->exposer->RegisterCollectable(
      metrics->families_->registry);
  const std::vector<int> ports =
      metrics->families_->exposer->GetListeningPorts();
  metrics->port_ = ports.empty() ? 0 : ports.front();
  return metrics;
}

Metrics::RpcMethod& Metrics::Method(absl::string_view full_method) {
  Families& f = *families_;
  {
    absl::ReaderMutexLock lock(&f.methods_mu);
    auto it = f.methods.find(full_method);
    if (it != f.methods.end()) return *it->second;
  }
  const std::string name = KnownMethod(full_method)
                               ? std::string(full_method)
                               : std::string(kUnknownMethod);
  absl::MutexLock lock(&f.methods_mu);
  auto& method = f.methods[name];
  if (method == nullptr) {
    method = std::make_unique<RpcMethod>(
        name, f.rpc_requests,
        f.rpc_duration.Add({{"method", name}}, RpcBuckets()),
        f.rpc_in_flight.Add({{"method", name}}));
  }
  return *method;
}

void Metrics::RpcStarted(RpcMethod& method) { method.Started(); }

void Metrics::RpcFinished(RpcMethod& method, int grpc_code,
                          absl::Duration elapsed) {
  method.Finished(grpc_code, elapsed);
}

void Metrics::ObserveRedis(RedisClient::Options& options) {
  Families* f = families_.get();
  options.on_command_done = [f](absl::Duration elapsed,
                                RedisCommandOutcome outcome) {
    switch (outcome) {
      case RedisCommandOutcome::kOk:
      case RedisCommandOutcome::kRejected:
        f->redis_duration.Observe(absl::ToDoubleSeconds(elapsed));
        break;
      case RedisCommandOutcome::kReplyError:
        f->redis_duration.Observe(absl::ToDoubleSeconds(elapsed));
        f->redis_reply_errors.Increment();
        break;
      case RedisCommandOutcome::kTimeout:
        f->redis_timeouts.Increment();
        break;
      case RedisCommandOutcome::kConnectionLost:
        f->redis_lost.Increment();
        break;
      case RedisCommandOutcome::kStopped:
        break;
    }
  };
}

void Metrics::RedisUsableChanged(bool usable) {
  families_->redis_connected.Set(usable ? 1 : 0);
  if (usable && was_usable_.exchange(true)) {
    // Not the first connection: a reconnect.
    families_->redis_reconnects.Increment();
  }
}

ConsumerOptions Metrics::ObserveConsumer(ConsumerOptions options) {
  const prometheus::Labels labels = {{"stream", options.stream},
                                     {"group", options.group}};
  Gauge* lag = &families_->consumer_lag.Add(labels);
  Counter* dead = &families_->dead_letters.Add(labels);
  options.on_lag = [lag](int64_t value) {
    lag->Set(static_cast<double>(value));
  };
  options.on_dead_letter = [dead] { dead->Increment(); };
  return options;
}

void Metrics::SetQueueWaiting(const std::vector<QueueWaitingCount>& counts) {
  Families& f = *families_;
  absl::MutexLock lock(&f.waiting_mu);
  absl::flat_hash_map<std::pair<std::string, std::string>, Gauge*> next;
  for (const QueueWaitingCount& count : counts) {
    auto key = std::make_pair(count.office, count.service);
    Gauge* gauge = nullptr;
    if (auto it = f.waiting.find(key); it != f.waiting.end()) {
      gauge = it->second;
      f.waiting.erase(it);
    } else {
      gauge = &f.queue_waiting.Add(
          {{"office", count.office}, {"service", count.service}});
    }
    gauge->Set(static_cast<double>(count.waiting));
    next.emplace(std::move(key), gauge);
  }
  // Offices and services that left the directory stop being reported.
  for (auto& [key, gauge] : f.waiting) f.queue_waiting.Remove(gauge);
  f.waiting = std::move(next);
}

void Metrics::SetLiveWatchers(int watchers) {
  families_->live_watchers.Set(watchers);
}

}  // namespace prima
