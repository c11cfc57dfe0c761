#include "bench/redis_bench.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/bench_util.h"
#include "services/common/config.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"

namespace prima::bench {
namespace {

const LuaScript& TicketScript() {
  static const LuaScript* const kScript =
      new LuaScript(MakeIdempotentScript("bench_ticket", R"lua(
    local n = redis.call('INCR', KEYS[2])
    local id = ARGV[2] .. '-' .. n
    redis.call('HSET', KEYS[3] .. id, 'office', ARGV[2], 'status', 'WAITING',
               'number', 'A-' .. n)
    redis.call('ZADD', KEYS[4], n, id)
    prima_emit(KEYS[5], ARGV[3], 'ticket.issued', 'bench', id)
    return id
  )lua"));
  return *kScript;
}

// One outstanding command that reissues itself from its own completion.
class Driver {
 public:
  Driver(RedisClient& client, const std::string& script, absl::Time stop_at)
      : client_(client), script_(script), stop_at_(stop_at) {}

  void Start(int concurrency) {
    outstanding_ = concurrency;
    for (int i = 0; i < concurrency; ++i) Issue(i);
  }
  void Wait() { done_.WaitForNotification(); }

  uint64_t ok() const { return ok_.load(); }
  uint64_t errors() const { return errors_.load(); }
  std::vector<double> latencies_ms() {
    absl::MutexLock lock(&mu_);
    return latencies_ms_;
  }

 private:
  void Issue(int slot) {
    const absl::Time start = absl::Now();
    auto done = [this, slot, start](absl::StatusOr<RedisValue> r) {
      const absl::Time now = absl::Now();
      if (r.ok()) {
        ok_.fetch_add(1);
      } else {
        errors_.fetch_add(1);
      }
      {
        absl::MutexLock lock(&mu_);
        latencies_ms_.push_back(absl::ToDoubleMilliseconds(now - start));
      }
      if (now < stop_at_) {
        Issue(slot);
      } else if (outstanding_.fetch_sub(1) == 1) {
        done_.Notify();
      }
    };
    if (script_ == "ping") {
      client_.Command({"PING"}, std::move(done));
      return;
    }
    const uint64_t n = sequence_.fetch_add(1);
    client_.Eval(
        TicketScript(),
        {IdempotencyKey("bench", "IssueTicket", "bench", absl::StrCat("r", n)),
         "bench:seq", "bench:ticket:", "bench:waiting",
         EventStreamKey("bench")},
        {"3600", absl::StrCat("office", slot % 50), "10000"}, std::move(done),
        {.resend_safe = true});
  }

  RedisClient& client_;
  const std::string script_;
  const absl::Time stop_at_;
  std::atomic<int> outstanding_{0};
  std::atomic<uint64_t> sequence_{0};
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> errors_{0};
  absl::Notification done_;
  absl::Mutex mu_;
  std::vector<double> latencies_ms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int RunRedisBench(const RedisBenchOptions& options) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "error: --redis-url: %s\n",
                 std::string(endpoint.status().message()).c_str());
    return 2;
  }
  RedisClient::Options client_options;
  client_options.endpoint = *endpoint;
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Start(client_options);
  if (!client.ok() || !(*client)->WaitUntilUsable(absl::Seconds(5))) {
    std::fprintf(stderr, "error: UNAVAILABLE: cannot reach %s\n",
                 options.redis_url.c_str());
    return 1;
  }
  const absl::Time start = absl::Now();
  Driver driver(**client, options.script, start + options.duration);
  driver.Start(options.concurrency);
  driver.Wait();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const RedisClient::Stats stats = (*client)->stats();
  (*client)->Stop();

  std::vector<double> latencies = driver.latencies_ms();
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "redis %s  concurrency %d  %.1f s\n"
      "  commands/s %.0f  errors %llu\n"
      "  latency ms  p50 %.3f  p90 %.3f  p99 %.3f\n"
      "  client: %llu commands sent, %llu timeouts, %llu connection losses\n",
      options.script.c_str(), options.concurrency, seconds,
      static_cast<double>(driver.ok()) / seconds,
      static_cast<unsigned long long>(driver.errors()),
      Percentile(latencies, 0.50), Percentile(latencies, 0.90),
      Percentile(latencies, 0.99),
      static_cast<unsigned long long>(stats.commands),
      static_cast<unsigned long long>(stats.timeouts),
      static_cast<unsigned long long>(stats.connection_losses));
  return driver.errors() == 0 ? 0 : 1;
}

}  // namespace prima::bench
