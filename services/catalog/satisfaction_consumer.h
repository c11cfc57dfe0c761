#pragma once

// Closes the satisfaction improvement loop: the catalog's consumer of the
// satisfaction service's events recommends training to the front-line officers
// of an office whose survey element scored low (`satisfaction.element_low`).

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"

namespace prima::catalog {

// Stream EventStreamKey("satisfaction"), group "catalog"; everything else
// default, as for the complaint consumer.
ConsumerOptions SatisfactionConsumerOptions();

// For `satisfaction.element_low` with scope "office", an office_id and
// competencies: picks the course of the first competency, in the event's
// order, that has a published course (the lowest course id among that
// competency's), and recommends it through TrainingStore::CreateRecommendation
// to every front-line officer of the office in the directory
// (Officer.front_line and Officer.office_id; only officers of the envelope's
// agency). Reason SatisfactionReason(), source_event_id the envelope id, so a
// redelivered event makes nothing new, and the store keeps one OPEN
// recommendation per officer and course across events. Other events and scopes,
// events without competencies or office, offices without front-line officers
// and competencies without a published course are acknowledged and ignored. So
// is a payload that does not parse (logged as an error): retrying cannot fix
// it, and the entry stays in the stream.
//
// The handler blocks its consumer thread on `redis` (the service's shared
// client); `redis` and `clock` must outlive it.
EventHandler MakeSatisfactionHandler(RedisClient& redis, const Clock& clock);

// "satisfaction.element_low:<element>:<office_id>:<period>", e.g.
// "satisfaction.element_low:U7:dukcapil-jaksel:2026-11".
std::string SatisfactionReason(
    const prima::events::v1::SatisfactionElementLow& low);

// The ids of the front-line officers among `officers` who work in `office_id`,
// in the order given.
std::vector<std::string> FrontLineOfficerIds(
    const std::vector<prima::catalog::v1::Officer>& officers,
    absl::string_view office_id);

}  // namespace prima::catalog
