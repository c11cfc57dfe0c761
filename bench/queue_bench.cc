#include "bench/queue_bench.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "services/common/adapter.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/ids.h"
#include "services/common/redis_client.h"
#include "services/common/sync_redis.h"
#include "services/queue/queue_store.h"

namespace prima::bench {

namespace v1 = prima::queue::v1;

std::string QueueBenchOffice(int office) {
  return absl::StrCat("bench-queue-", office);
}
std::string QueueBenchService(int service) {
  return absl::StrCat("bench-queue-", std::string(1, 'a' + service));
}
std::string QueueBenchCounter(int office, int counter) {
  return absl::StrCat("bench-queue-", office, "-", counter);
}
std::string QueueBenchOfficer(int office, int counter) {
  return absl::StrCat("bench-queue-officer-", office, "-", counter);
}

absl::StatusOr<std::string> QueueBenchOfficerToken(const std::string& officer) {
  std::string secret;
  if (const char* env = std::getenv("PRIMA_JWT_SECRET"); env && *env) {
    secret = env;
  } else {
    std::ifstream file("var/dev-jwt-secret");
    std::getline(file, secret);
    absl::StripAsciiWhitespace(&secret);
  }
  if (secret.empty()) {
    return absl::FailedPreconditionError(
        "officer tokens need PRIMA_JWT_SECRET (or var/dev-jwt-secret)");
  }
  MintRequest request;
  request.secret = secret;
  request.subject = officer;
  request.agency = kQueueBenchAgency;
  request.roles = {"officer"};
  request.ttl = absl::Hours(2);
  return MintHs256Token(request);
}

namespace {

absl::Status StatusOf(const grpc::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

void PrepareOfficerCall(grpc::ClientContext* context,
                        const std::string& token) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context->AddMetadata("authorization", "Bearer " + token);
}

}  // namespace

absl::Status CompleteQueueBenchTicket(v1::QueueService::Stub& stub,
                                      const std::string& counter_id,
                                      const std::string& token,
                                      const std::string& ticket_id) {
  grpc::ClientContext context;
  PrepareOfficerCall(&context, token);
  v1::CompleteServiceRequest request;
  request.set_request_id(NewRequestId());
  request.set_counter_id(counter_id);
  request.set_ticket_id(ticket_id);
  request.set_outcome(v1::SERVICE_OUTCOME_DONE);
  v1::Ticket ticket;
  return StatusOf(stub.CompleteService(&context, request, &ticket),
                  absl::StrCat("CompleteService at ", counter_id));
}

absl::Status OpenQueueBenchCounter(v1::QueueService::Stub& stub,
                                   const std::string& counter_id,
                                   const std::string& token) {
  grpc::ClientContext context;
  PrepareOfficerCall(&context, token);
  v1::OpenCounterRequest request;
  request.set_request_id(NewRequestId());
  request.set_counter_id(counter_id);
  v1::CounterSession session;
  absl::Status opened = StatusOf(stub.OpenCounter(&context, request, &session),
                                 absl::StrCat("OpenCounter ", counter_id));
  if (!opened.ok() || session.current_ticket_id().empty()) return opened;
  return CompleteQueueBenchTicket(stub, counter_id, token,
                                  session.current_ticket_id());
}

namespace {

using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------
// queue-memory
// ---------------------------------------------------------------------------------

// Where each key belongs in the breakdown, by name prefix.
constexpr std::pair<const char*, const char*> kKeyKinds[] = {
    {"prima:queue:t:", "ticket hashes"},
    {"prima:queue:w:", "waiting zsets (queue order)"},
    {"prima:queue:expiry", "expiry zset"},
    {"prima:idem:", "idempotency records (24 h)"},
    {"prima:events:", "event stream entries"},
    {"prima:queue:live", "live-feed stream (capped at 10000)"},
};
constexpr char kOtherKeys[] =
    "other (per office/day: sequences, counts, stats)";

const char* KindOf(absl::string_view key) {
  for (const auto& [prefix, kind] : kKeyKinds) {
    if (absl::StartsWith(key, prefix)) return kind;
  }
  return kOtherKeys;
}

// MEMORY USAGE (exact: SAMPLES 0) summed by key kind, over every key.
absl::StatusOr<std::map<std::string, int64_t>> UsageByKind(
    SyncRedis& sync, RedisClient& client) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    absl::StatusOr<RedisValue> page =
        sync.Command({"SCAN", cursor, "COUNT", "1000"});
    if (!page.ok()) return page.status();
    if (!page->is_array() || page->elements.size() != 2) {
      return absl::InternalError("SCAN: unexpected reply");
    }
    cursor = page->elements[0].str;
    for (const RedisValue& key : page->elements[1].elements) {
      keys.push_back(key.str);
    }
  } while (cursor != "0");
  std::vector<int64_t> bytes(keys.size(), 0);
  const int64_t failures = Pipelined(
      static_cast<int64_t>(keys.size()), 256,
      [&](int64_t i, std::function<void(bool)> done) {
        client.Command({"MEMORY", "USAGE", keys[i], "SAMPLES", "0"},
                       [&bytes, i, done](absl::StatusOr<RedisValue> r) {
                         if (r.ok()) bytes[i] = r->integer;
                         done(r.ok());
                       });
      });
  if (failures > 0) {
    return absl::UnavailableError(
        absl::StrCat("MEMORY USAGE failed for ", failures, " keys"));
  }
  std::map<std::string, int64_t> usage;
  for (size_t i = 0; i < keys.size(); ++i) usage[KindOf(keys[i])] += bytes[i];
  return usage;
}

}  // namespace

int RunQueueMemory(const QueueMemoryOptions& options) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return Fail(endpoint.status());
  RedisClient::Options client_options;
  client_options.endpoint = *endpoint;
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Start(client_options);
  if (!client.ok()) return Fail(client.status());
  if (!(*client)->WaitUntilUsable(absl::Seconds(5))) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot reach ", options.redis_url)));
  }
  SyncRedis sync(*endpoint, absl::Seconds(30));

  absl::StatusOr<int64_t> used_before = UsedMemory(sync);
  if (!used_before.ok()) return Fail(used_before.status());
  absl::StatusOr<std::map<std::string, int64_t>> before =
      UsageByKind(sync, **client);
  if (!before.ok()) return Fail(before.status());

  // Anonymous kiosk tickets, as IssueTicket stores them: 9000 per office (the
  // daily limit is 9999 per office and prefix), one service.
  const ReceiptKeys keys =
      ReceiptKeys::FromJwtSecret("memory measurement: any key");
  queue::QueueStore store(**client, RealClock::Get(), keys);
  const absl::TimeZone jakarta = [] {
    absl::TimeZone zone;
    absl::LoadTimeZone("Asia/Jakarta", &zone);
    return zone;
  }();
  const absl::Time now = absl::Now();
  const std::string run = NewRequestId().substr(0, 8);
  queue::IssueParams base;
  base.agency_id = kQueueBenchAgency;
  base.service_id = QueueBenchService(0);
  base.ticket_prefix = std::string(1, 'A');
  base.target_waiting_minutes = 30;
  base.channel = v1::CHANNEL_KIOSK;
  base.local_date = absl::ToCivilDay(now, jakarta);
  base.expire_time = now + absl::Hours(12);
  const absl::Time start = absl::Now();
  const int64_t failures = Pipelined(
      options.tickets, 256, [&](int64_t i, std::function<void(bool)> done) {
        queue::IssueParams params = base;
        params.office_id = absl::StrCat("bench-mem-", run, "-", i / 9000);
        queue::QueueActor actor;
        actor.request_id = NewRequestId();
        actor.actor = ActorProto(Principal());
        store.IssueTicket(
            params, actor,
            [done](absl::StatusOr<v1::Ticket> ticket) { done(ticket.ok()); });
      });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (failures > 0) {
    return Fail(absl::InternalError(absl::StrCat(
        failures, " of ", options.tickets, " IssueTicket failed")));
  }
  absl::StatusOr<int64_t> used_after = UsedMemory(sync);
  if (!used_after.ok()) return Fail(used_after.status());
  absl::StatusOr<std::map<std::string, int64_t>> after =
      UsageByKind(sync, **client);
  if (!after.ok()) return Fail(after.status());
  (*client)->Stop();

  const double n = static_cast<double>(options.tickets);
  std::printf(
      "queue-memory: %d WAITING tickets issued through QueueStore::IssueTicket "
      "in %.1f s (%.0f/s)\n"
      "used_memory: %lld -> %lld bytes: %.0f bytes per ticket\n\n"
      "MEMORY USAGE by key kind (after - before), bytes per ticket:\n",
      options.tickets, seconds, n / seconds,
      static_cast<long long>(*used_before), static_cast<long long>(*used_after),
      static_cast<double>(*used_after - *used_before) / n);
  int64_t counted = 0;
  std::vector<std::string> kinds;
  for (const auto& [prefix, kind] : kKeyKinds) kinds.push_back(kind);
  kinds.push_back(kOtherKeys);
  for (const std::string& kind : kinds) {
    const int64_t delta = (*after)[kind] - (*before)[kind];
    counted += delta;
    std::printf("  %-52s %8.1f\n", kind.c_str(),
                static_cast<double>(delta) / n);
  }
  std::printf("  %-52s %8.1f\n",
              "not in MEMORY USAGE (keyspace tables, allocator)",
              static_cast<double>(*used_after - *used_before - counted) / n);
  return 0;
}

// ---------------------------------------------------------------------------------
// queue-watch
// ---------------------------------------------------------------------------------

namespace {

// One WatchOffice stream; records when each KIND_CALL arrives.
class Watcher final : public grpc::ClientReadReactor<v1::BoardUpdate> {
 public:
  Watcher(v1::QueueService::Stub* stub, std::atomic<int>* ready,
          absl::BlockingCounter* done)
      : ready_(ready), done_(done) {
    request_.set_office_id(kQueueBenchWatchOffice);
    stub->async()->WatchOffice(&context_, &request_, this);
    StartRead(&update_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    const SteadyClock::time_point now = SteadyClock::now();
    if (update_.kind() == v1::BoardUpdate::KIND_SNAPSHOT) {
      ready_->fetch_add(1);
    } else if (update_.kind() == v1::BoardUpdate::KIND_CALL) {
      for (const v1::BoardCall& call : update_.calls()) {
        arrivals_.emplace_back(call.ticket_number(), now);
      }
    }
    StartRead(&update_);
  }

  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_->DecrementCount();
  }

  void Cancel() { context_.TryCancel(); }
  // Read only after OnDone.
  const grpc::Status& status() const { return status_; }
  const std::vector<std::pair<std::string, SteadyClock::time_point>>& arrivals()
      const {
    return arrivals_;
  }

 private:
  std::atomic<int>* ready_;
  absl::BlockingCounter* done_;
  grpc::ClientContext context_;
  v1::WatchOfficeRequest request_;
  v1::BoardUpdate update_;
  grpc::Status status_;
  std::vector<std::pair<std::string, SteadyClock::time_point>> arrivals_;
};

// The officer's calls at the watch counter: IssueTicket + CallNext +
// CompleteService.
class WatchCaller {
 public:
  WatchCaller(std::shared_ptr<grpc::Channel> channel, std::string token)
      : stub_(v1::QueueService::NewStub(channel)), token_(std::move(token)) {}

  absl::Status Open() {
    return OpenQueueBenchCounter(*stub_, kQueueBenchWatchCounter, token_);
  }

  // One round; `number` and `replied` are the CallNext reply's ticket number
  // and arrival time, `sent` when CallNext left.
  absl::Status Round(std::string* number, SteadyClock::time_point* sent,
                     SteadyClock::time_point* replied) {
    {
      grpc::ClientContext context;
      Prepare(&context, false);
      v1::IssueTicketRequest request;
      request.set_request_id(NewRequestId());
      request.set_office_id(kQueueBenchWatchOffice);
      request.set_service_id(QueueBenchService(0));
      request.set_channel(v1::CHANNEL_KIOSK);
      v1::Ticket ticket;
      absl::Status issued = StatusOf(
          stub_->IssueTicket(&context, request, &ticket), "IssueTicket");
      if (!issued.ok()) return issued;
    }
    grpc::ClientContext context;
    Prepare(&context, true);
    v1::CallNextRequest request;
    request.set_request_id(NewRequestId());
    request.set_counter_id(kQueueBenchWatchCounter);
    v1::Ticket called;
    *sent = SteadyClock::now();
    grpc::Status status = stub_->CallNext(&context, request, &called);
    *replied = SteadyClock::now();
    if (!status.ok()) return StatusOf(status, "CallNext");
    *number = called.number();
    return Complete(called.id());
  }

 private:
  void Prepare(grpc::ClientContext* context, bool officer) const {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (officer) context->AddMetadata("authorization", "Bearer " + token_);
  }

  absl::Status Complete(const std::string& ticket_id) {
    return CompleteQueueBenchTicket(*stub_, kQueueBenchWatchCounter, token_,
                                    ticket_id);
  }

  std::unique_ptr<v1::QueueService::Stub> stub_;
  std::string token_;
};

std::shared_ptr<grpc::Channel> NewChannel(const std::string& addr, int index) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("prima.bench_channel", index);
  return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(),
                                   args);
}

void PrintDelays(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::printf("  %-28s p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", what,
              Percentile(ms, 0.50), Percentile(ms, 0.90), Percentile(ms, 0.99),
              ms.empty() ? 0.0 : ms.back());
}

}  // namespace

int RunQueueWatch(const QueueWatchOptions& options) {
  absl::Duration interval;
  if (!absl::ParseDuration(options.interval, &interval)) {
    return Fail(absl::InvalidArgumentError("--interval: not a duration"));
  }
  absl::StatusOr<std::string> token =
      QueueBenchOfficerToken("bench-queue-watch-officer");
  if (!token.ok()) return Fail(token.status());
  WatchCaller caller(
      NewChannel(options.call_addr.empty() ? options.addr : options.call_addr,
                 -1),
      *token);
  if (absl::Status s = caller.Open(); !s.ok()) return Fail(s);

  // ~100 streams per connection.
  const int channel_count = std::max(1, (options.watchers + 99) / 100);
  std::vector<std::unique_ptr<v1::QueueService::Stub>> stubs;
  for (int i = 0; i < channel_count; ++i) {
    stubs.push_back(v1::QueueService::NewStub(NewChannel(options.addr, i)));
  }
  std::atomic<int> ready{0};
  absl::BlockingCounter ended(options.watchers);
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < options.watchers; ++i) {
    watchers.push_back(std::make_unique<Watcher>(stubs[i % channel_count].get(),
                                                 &ready, &ended));
  }
  const absl::Time ready_by = absl::Now() + absl::Seconds(30);
  while (ready.load() < options.watchers && absl::Now() < ready_by) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const int watching = ready.load();
  std::fprintf(stderr, "queue-watch: %d of %d watchers have their snapshot\n",
               watching, options.watchers);

  std::map<std::string, std::pair<SteadyClock::time_point,
                                  SteadyClock::time_point>>
      calls;  // number -> (CallNext sent, reply)
  absl::Status failed;
  for (int i = 0; i < options.calls && failed.ok(); ++i) {
    std::string number;
    SteadyClock::time_point sent, replied;
    failed = caller.Round(&number, &sent, &replied);
    if (failed.ok()) calls[number] = {sent, replied};
    absl::SleepFor(interval);
  }
  // Let the last deliveries arrive, then end every stream.
  absl::SleepFor(absl::Seconds(2));
  for (auto& watcher : watchers) watcher->Cancel();
  ended.Wait();

  std::vector<double> from_reply, from_sent;
  int64_t early = 0;
  std::map<std::string, int> refused;
  for (const auto& watcher : watchers) {
    if (!watcher->status().ok() &&
        watcher->status().error_code() != grpc::StatusCode::CANCELLED) {
      refused[absl::StatusCodeToString(
          static_cast<absl::StatusCode>(watcher->status().error_code()))]++;
    }
    for (const auto& [number, at] : watcher->arrivals()) {
      auto it = calls.find(number);
      if (it == calls.end()) continue;
      const double reply_ms =
          std::chrono::duration<double, std::milli>(at - it->second.second)
              .count();
      if (reply_ms < 0) ++early;
      from_reply.push_back(reply_ms);
      from_sent.push_back(
          std::chrono::duration<double, std::milli>(at - it->second.first)
              .count());
    }
  }
  std::printf(
      "queue-watch: %d WatchOffice streams on %d channel(s) at %s; %zu calls "
      "(IssueTicket + CallNext + CompleteService every %s) via %s\n"
      "KIND_CALL deliveries: %zu of %lld expected (%lld arrived before the "
      "CallNext reply)\n",
      watching, channel_count, options.addr.c_str(), calls.size(),
      absl::FormatDuration(interval).c_str(),
      (options.call_addr.empty() ? options.addr : options.call_addr).c_str(),
      from_reply.size(), static_cast<long long>(calls.size()) * watching,
      static_cast<long long>(early));
  PrintDelays("from the CallNext reply:", from_reply);
  PrintDelays("from the CallNext request:", from_sent);
  for (const auto& [code, count] : refused) {
    std::printf("  streams ended with %s: %d\n", code.c_str(), count);
  }
  if (!failed.ok()) return Fail(failed);
  return 0;
}

}  // namespace prima::bench
