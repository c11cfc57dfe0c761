#pragma once

// Closes the loop on attitude complaints: the catalog's consumer of the
// complaint service's events recommends the service-attitude course (Pelayanan
// Prima) to the officer, or the office, a `complaint.filed` event with category
// ATTITUDINAL names. Its sibling for low satisfaction scores is
// satisfaction_consumer.h; what both share is in recommendation_consumer.h.

#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"

namespace prima::catalog {

// The competency whose course answers an attitudinal complaint.
inline constexpr char kServiceAttitudeCompetency[] = "service-attitude";

// Stream EventStreamKey("complaint"), group "catalog"; everything else default
// (CatalogConsumerOptions: complaints filed before the catalog first ran are
// not missed).
ConsumerOptions ComplaintConsumerOptions();

// For `complaint.filed` with category "ATTITUDINAL" and an officer_id or
// office_id: recommends the published course with kServiceAttitudeCompetency
// (the lowest id when several are) through TrainingStore::CreateRecommendation,
// for the officer and their office in the directory (the event's office_id
// when the directory does not know the officer), or for the office alone.
// Reason "complaint.attitudinal:<tracking_number>", source_event_id the
// envelope id. Other events, categories and complaints naming nobody are
// acknowledged and ignored, as are events when no such course is published.
//
// The handler blocks its consumer thread on `redis` (the service's shared
// client); `redis` and `clock` must outlive it.
EventHandler MakeComplaintHandler(RedisClient& redis, const Clock& clock);

}  // namespace prima::catalog
