#include "bench/satisfaction_bench.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "prima/events/v1/events.pb.h"
#include "prima/satisfaction/v1/satisfaction.pb.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/done.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/receipt_keys.h"
#include "services/common/redis_client.h"
#include "services/common/sync_redis.h"
#include "services/satisfaction/satisfaction_rules.h"
#include "services/satisfaction/satisfaction_store.h"

namespace prima::bench {
namespace {

namespace sat = prima::satisfaction;
namespace sv1 = prima::satisfaction::v1;

constexpr int kWindow = 256;
constexpr int64_t kProgressEvery = 100000;

// What every response of one fill shares.
struct FillPlan {
  const SatisfactionFillOptions* options = nullptr;
  const sat::Template* skm = nullptr;
  std::string run;  // makes request ids and the kiosk unique to this fill
  // The kiosk every response of the fill comes from (registered first,
  // through the store) and the SHA-256 of its credential.
  std::string kiosk_id;
  std::string kiosk_credential_sha;
  absl::TimeZone zone;
  absl::Time start;
  int days = 1;  // the spread, cut at the 1st of the month
};

// Response `index`, as the adapter's Write builds a kiosk response
// (services/satisfaction/satisfaction_service.cc), on day `index % days`
// before today.
sat::NewResponse FillResponse(const FillPlan& plan, int64_t index,
                              sat::SatisfactionActor* actor) {
  const SatisfactionFillOptions& options = *plan.options;
  const absl::Time at = plan.start - absl::Hours(24 * (index % plan.days));
  const absl::CivilDay day = absl::ToCivilDay(at, plan.zone);
  actor->subject = "";  // kiosks are anonymous
  actor->request_id = absl::StrCat("bench-fill-", plan.run, "-", index);

  sat::NewResponse write;
  sv1::Response& r = write.response;
  r.set_agency_id(options.agency);
  r.set_office_id(options.office);
  r.set_service_id(options.service);
  r.set_source(sv1::INVITATION_SOURCE_KIOSK);
  r.set_id(absl::AsciiStrToLower(NewTimeOrderedId(at)));
  r.set_template_id(plan.skm->id);
  r.set_template_version(plan.skm->version);
  for (int u = 1; u <= 9; ++u) {
    sv1::Answer* answer = r.add_answers();
    answer->set_code(absl::StrCat("U", u));
    answer->set_value(static_cast<int32_t>(1 + (index + u) % 4));
  }
  *r.mutable_submit_time() = ToProtoTime(at);
  *r.mutable_local_date() = ToLocalDate(day);
  write.kiosk_id = plan.kiosk_id;
  write.kiosk_credential_sha = plan.kiosk_credential_sha;
  // One kiosk for the whole fill: its per-minute limit must never bite.
  write.kiosk_per_minute = std::numeric_limits<int>::max();
  write.scopes = sat::ScopesOf(r);
  write.period_keys = sat::StoredPeriodKeysOf(day);
  prima::events::v1::SatisfactionResponseSubmitted event;
  event.set_response_id(r.id());
  event.set_template_id(r.template_id());
  event.set_template_version(r.template_version());
  event.set_office_id(r.office_id());
  event.set_service_id(r.service_id());
  event.set_officer_id(r.officer_id());
  write.event =
      MakeEnvelope("satisfaction.response_submitted", r.agency_id(),
                   sat::kSatisfactionProducer, event, at, actor->request_id);
  return write;
}

}  // namespace

int RunSatisfactionFill(const SatisfactionFillOptions& options) {
  if (options.responses < 1 || options.days < 1) {
    return Fail(
        absl::InvalidArgumentError("--responses and --days: at least 1 each"));
  }
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

  FillPlan plan;
  plan.options = &options;
  plan.skm = sat::FindBuiltInTemplate("skm");
  if (plan.skm == nullptr) {
    return Fail(absl::InternalError("no built-in skm template"));
  }
  plan.run = NewRequestId().substr(0, 12);
  if (!absl::LoadTimeZone("Asia/Jakarta", &plan.zone)) {
    return Fail(absl::InternalError("cannot load time zone Asia/Jakarta"));
  }
  plan.start = absl::Now();
  const absl::CivilDay today = absl::ToCivilDay(plan.start, plan.zone);
  plan.days = std::min(options.days, today.day());

  absl::StatusOr<int64_t> used_before = UsedMemory(sync);
  if (!used_before.ok()) return Fail(used_before.status());
  absl::StatusOr<CommandStats> scripts_before = CommandStatsOf(sync, "evalsha");
  if (!scripts_before.ok()) return Fail(scripts_before.status());

  // A throwaway receipt key: the fill's kiosk credential is needed only here.
  const ReceiptKeys keys = ReceiptKeys::FromJwtSecret(NewSecret(32));
  sat::SatisfactionStore store(**client, RealClock::Get(), keys);
  {
    sv1::Kiosk kiosk;
    kiosk.set_id(absl::StrCat("bench-fill-", plan.run));
    kiosk.set_office_id(options.office);
    kiosk.set_agency_id(options.agency);
    kiosk.set_name("satisfaction-fill");
    *kiosk.mutable_create_time() = ToProtoTime(plan.start);
    const sat::SatisfactionActor actor{
        "", absl::StrCat("bench-fill-kiosk-", plan.run), ""};
    absl::StatusOr<sv1::Kiosk> registered =
        Await<sv1::Kiosk>([&](Done<sv1::Kiosk> done) {
          store.RegisterKiosk(kiosk, actor, std::move(done));
        });
    if (!registered.ok()) return Fail(registered.status());
    plan.kiosk_id = registered->id();
    plan.kiosk_credential_sha = Sha256Hex(registered->credential());
  }
  std::atomic<int> reported{0};  // the first few failures are enough
  const absl::Time started = absl::Now();
  const int64_t failures = Pipelined(
      options.responses, kWindow,
      [&](int64_t i, std::function<void(bool)> done) {
        if (i > 0 && i % kProgressEvery == 0) {
          std::fprintf(stderr, "satisfaction-fill: %lld started, %.0f s\n",
                       static_cast<long long>(i),
                       absl::ToDoubleSeconds(absl::Now() - started));
        }
        sat::SatisfactionActor actor;
        const sat::NewResponse write = FillResponse(plan, i, &actor);
        store.SubmitResponse(
            write, actor,
            [done, &reported](absl::StatusOr<sv1::Response> stored) {
              if (!stored.ok() && reported.fetch_add(1) < 5) {
                std::fprintf(stderr, "SubmitResponse: %s\n",
                             stored.status().ToString().c_str());
              }
              done(stored.ok());
            });
      });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  absl::StatusOr<CommandStats> scripts_after = CommandStatsOf(sync, "evalsha");
  if (!scripts_after.ok()) return Fail(scripts_after.status());
  absl::StatusOr<int64_t> used_after = UsedMemory(sync);
  if (!used_after.ok()) return Fail(used_after.status());
  (*client)->Stop();

  const int64_t written = options.responses - failures;
  const double n = static_cast<double>(written);
  const int64_t scripts = scripts_after->calls - scripts_before->calls;
  std::printf(
      "satisfaction-fill: %lld responses written through "
      "SatisfactionStore::SubmitResponse in %.1f s (%.0f/s)\n"
      "  office %s (agency %s, service %s), %s..%s (Asia/Jakarta)\n"
      "used_memory: %lld -> %lld bytes: %.0f bytes per response\n"
      "Redis time per script (INFO commandstats, every EVALSHA during the "
      "fill): %.1f usec over %lld calls\n",
      static_cast<long long>(written), seconds, n / seconds,
      options.office.c_str(), options.agency.c_str(), options.service.c_str(),
      absl::FormatCivilTime(today - (plan.days - 1)).c_str(),
      absl::FormatCivilTime(today).c_str(),
      static_cast<long long>(*used_before), static_cast<long long>(*used_after),
      n > 0 ? static_cast<double>(*used_after - *used_before) / n : 0.0,
      scripts > 0
          ? static_cast<double>(scripts_after->usec - scripts_before->usec) /
                static_cast<double>(scripts)
          : 0.0,
      static_cast<long long>(scripts));
  if (failures > 0) {
    return Fail(absl::InternalError(absl::StrCat(
        failures, " of ", options.responses, " SubmitResponse failed")));
  }
  return 0;
}

}  // namespace prima::bench
