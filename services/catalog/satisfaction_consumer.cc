#include "services/catalog/satisfaction_consumer.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/directory_store.h"
#include "services/catalog/recommendation_consumer.h"
#include "services/catalog/training_store.h"
#include "services/common/done.h"
#include "services/common/logging.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"

namespace prima::catalog {
namespace {

using prima::catalog::v1::Officer;
using prima::catalog::v1::Recommendation;
using prima::events::v1::SatisfactionElementLow;

constexpr char kElementLow[] = "satisfaction.element_low";
constexpr char kOfficeScope[] = "office";
// Officers read per round trip while listing an office.
constexpr int kOfficerPage = 100;

struct Stores {
  Stores(RedisClient& redis, const Clock& clock)
      : training(redis, clock), directory(redis, clock) {}
  TrainingStore training;
  DirectoryStore directory;
};

LogFields EventFields(const StreamEvent& event,
                      const SatisfactionElementLow& low) {
  return LogFields()
      .Add("event", event.envelope.id())
      .Add("office", low.office_id())
      .Add("element", low.element())
      .Add("period", low.period());
}

// The course of the first competency, in the event's order, with a published
// course; nullopt when none has one. Competencies that are not ids cannot be
// on a course and are skipped (an empty one would match every course).
absl::StatusOr<std::optional<std::string>> PreferredCourse(
    TrainingStore& store, const SatisfactionElementLow& low) {
  for (const std::string& competency : low.competencies()) {
    if (!ValidateId("competency", competency).ok()) continue;
    absl::StatusOr<std::optional<std::string>> course =
        FindPublishedCourse(store, competency);
    if (!course.ok() || course->has_value()) return course;
  }
  return std::nullopt;
}

// The office's front-line officers of `agency`, by id.
absl::StatusOr<std::vector<std::string>> FrontLineOfficersOf(
    DirectoryStore& directory, absl::string_view office_id,
    absl::string_view agency) {
  ListQuery query;
  query.kind = directory::Kind::kOfficer;
  query.office_id = std::string(office_id);
  query.only_agency = std::string(agency);
  query.page_size = kOfficerPage;
  std::vector<std::string> ids;
  while (true) {
    absl::StatusOr<Page<Officer>> page =
        Await<Page<Officer>>([&](Done<Page<Officer>> done) {
          directory.List<Officer>(query, std::move(done));
        });
    if (!page.ok()) return page.status();
    for (std::string& id : FrontLineOfficerIds(page->items, office_id)) {
      ids.push_back(std::move(id));
    }
    if (page->next_page_token.empty()) return ids;
    query.page_token = page->next_page_token;
  }
}

absl::Status HandleSatisfactionEvent(Stores& stores, const StreamEvent& event) {
  const prima::events::v1::EventEnvelope& envelope = event.envelope;
  // Every survey response is an event on this stream: skip them silently.
  if (envelope.type() != kElementLow) return absl::OkStatus();
  SatisfactionElementLow low;
  if (!envelope.payload().UnpackTo(&low)) {
    // A producer bug that no retry fixes; the entry stays in the stream for
    // whoever fixes the producer.
    Log(LogLevel::kError,
        "satisfaction.element_low event without a SatisfactionElementLow "
        "payload: ignored",
        LogFields().Add("event", envelope.id()).Add("entry", event.entry_id));
    return absl::OkStatus();
  }
  auto ignore = [&](absl::string_view why) {
    Log(LogLevel::kInfo, "low satisfaction element: nothing to recommend",
        EventFields(event, low).Add("scope", low.scope()).Add("why", why));
    return absl::OkStatus();
  };
  if (low.scope() != kOfficeScope) return ignore("not an office's score");
  if (low.office_id().empty()) return ignore("no office");
  if (low.competencies().empty()) return ignore("no competencies");
  if (absl::Status s = ValidateId("office_id", low.office_id()); !s.ok()) {
    Log(LogLevel::kWarn, "low element not turned into recommendations",
        EventFields(event, low).Add("error", s.message()));
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> course =
      PreferredCourse(stores.training, low);
  if (!course.ok()) return course.status();
  if (!course->has_value()) {
    return ignore(absl::StrCat("no published course for competencies ",
                               absl::StrJoin(low.competencies(), ",")));
  }
  absl::StatusOr<std::vector<std::string>> officers =
      FrontLineOfficersOf(stores.directory, low.office_id(), envelope.agency());
  if (!officers.ok()) return officers.status();
  if (officers->empty()) return ignore("no front-line officers in the office");

  Recommendation wanted;
  wanted.set_office_id(low.office_id());
  wanted.set_agency(envelope.agency());
  wanted.set_course_id(**course);
  wanted.set_reason(SatisfactionReason(low));
  wanted.set_source_event_id(envelope.id());
  for (const std::string& officer : *officers) {
    wanted.set_officer_id(officer);
    // An error stops here for a retry; the officers already done are then
    // deduplicated by event, so each still gets one.
    RETURN_IF_ERROR(OpenRecommendation(
        stores.training, wanted,
        EventFields(event, low).Add("officer", officer),
        "training recommended after a low satisfaction element"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string SatisfactionReason(const SatisfactionElementLow& low) {
  return absl::StrCat(kElementLow, ":", low.element(), ":", low.office_id(),
                      ":", low.period());
}

std::vector<std::string> FrontLineOfficerIds(
    const std::vector<Officer>& officers, absl::string_view office_id) {
  std::vector<std::string> ids;
  for (const Officer& officer : officers) {
    if (officer.front_line() && officer.office_id() == office_id) {
      ids.push_back(officer.id());
    }
  }
  return ids;
}

ConsumerOptions SatisfactionConsumerOptions() {
  return CatalogConsumerOptions("satisfaction");
}

EventHandler MakeSatisfactionHandler(RedisClient& redis, const Clock& clock) {
  // EventHandler is a std::function, so the stores are shared, not moved in.
  auto stores = std::make_shared<Stores>(redis, clock);
  return [stores](const StreamEvent& event, SyncRedis&) {
    return HandleSatisfactionEvent(*stores, event);
  };
}

}  // namespace prima::catalog
