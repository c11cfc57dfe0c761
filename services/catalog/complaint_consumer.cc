#include "services/catalog/complaint_consumer.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/recommendation_consumer.h"
#include "services/catalog/training_store.h"
#include "services/common/directory_keys.h"
#include "services/common/logging.h"
#include "services/common/validation.h"

namespace prima::catalog {
namespace {

using prima::catalog::v1::Recommendation;
using prima::events::v1::ComplaintFiled;

constexpr char kComplaintFiled[] = "complaint.filed";
constexpr char kAttitudinal[] = "ATTITUDINAL";

// The officer's office in the directory; "" when the officer is unknown or has
// no office.
absl::StatusOr<std::string> OfficerOffice(SyncRedis& redis,
                                          absl::string_view officer_id) {
  absl::StatusOr<RedisValue> office = redis.Command(
      {"HGET", directory::ResourceKey(directory::Kind::kOfficer, officer_id),
       directory::kOfficeField});
  if (!office.ok()) return office.status();
  if (office->is_nil()) return std::string();
  return office->str;
}

LogFields EventFields(const StreamEvent& event, const ComplaintFiled& filed) {
  return LogFields()
      .Add("event", event.envelope.id())
      .Add("tracking_number", filed.tracking_number())
      .Add("officer", filed.officer_id())
      .Add("office", filed.office_id());
}

absl::Status HandleComplaintEvent(TrainingStore& store,
                                  const StreamEvent& event, SyncRedis& redis) {
  const prima::events::v1::EventEnvelope& envelope = event.envelope;
  if (envelope.type() != kComplaintFiled) return absl::OkStatus();
  ComplaintFiled filed;
  if (!envelope.payload().UnpackTo(&filed)) {
    // A producer bug: failing leaves the entry to be retried and then kept in
    // the dead-letter stream, where whoever fixes the producer can read it.
    return absl::InvalidArgumentError(
        absl::StrCat("complaint.filed event ", envelope.id(),
                     " does not carry a ComplaintFiled payload"));
  }
  if (filed.category() != kAttitudinal) return absl::OkStatus();
  if (filed.officer_id().empty() && filed.office_id().empty()) {
    return absl::OkStatus();
  }

  // Bad ids are refused the same way on every delivery: the complaint itself
  // is fine, there is just nobody to recommend to, so log and acknowledge
  // rather than retry into the dead-letter stream.
  auto refuse = [&](const absl::Status& why) {
    Log(LogLevel::kWarn, "complaint not turned into a recommendation",
        EventFields(event, filed).Add("error", why.message()));
    return absl::OkStatus();
  };
  std::string office_id = filed.office_id();
  if (!filed.officer_id().empty()) {
    if (absl::Status s = ValidateId("officer_id", filed.officer_id());
        !s.ok()) {
      return refuse(s);
    }
    absl::StatusOr<std::string> office =
        OfficerOffice(redis, filed.officer_id());
    if (!office.ok()) return office.status();
    if (!office->empty()) office_id = *office;
  }

  absl::StatusOr<std::optional<std::string>> course =
      FindPublishedCourse(store, kServiceAttitudeCompetency);
  if (!course.ok()) return course.status();
  if (!course->has_value()) {
    Log(LogLevel::kInfo,
        "no published service-attitude course: nothing to recommend",
        EventFields(event, filed));
    return absl::OkStatus();
  }

  Recommendation wanted;
  wanted.set_officer_id(filed.officer_id());
  wanted.set_office_id(office_id);
  wanted.set_agency(envelope.agency());
  wanted.set_course_id(**course);
  wanted.set_reason(
      absl::StrCat("complaint.attitudinal:", filed.tracking_number()));
  wanted.set_source_event_id(envelope.id());
  return OpenRecommendation(
      store, wanted, EventFields(event, filed),
      "training recommended after an attitudinal complaint");
}

}  // namespace

ConsumerOptions ComplaintConsumerOptions() {
  return CatalogConsumerOptions("complaint");
}

EventHandler MakeComplaintHandler(RedisClient& redis, const Clock& clock) {
  // EventHandler is a std::function, so the store is shared, not moved in.
  auto store = std::make_shared<TrainingStore>(redis, clock);
  return [store](const StreamEvent& event, SyncRedis& sync) {
    return HandleComplaintEvent(*store, event, sync);
  };
}

}  // namespace prima::catalog
