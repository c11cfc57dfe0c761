#pragma once

// What the catalog's event consumers that open training recommendations share
// (complaint_consumer.h, satisfaction_consumer.h): their consumer group, the
// course they pick for a competency, and how they open a recommendation.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prima/catalog/v1/training.pb.h"
#include "services/catalog/training_store.h"
#include "services/common/events.h"
#include "services/common/logging.h"

namespace prima::catalog {

// Stream EventStreamKey(producer), group "catalog"; everything else default (a
// new group reads everything retained, so events appended before the catalog
// first ran are not missed).
ConsumerOptions CatalogConsumerOptions(absl::string_view producer);

// The lowest-id published course carrying `competency`, or nullopt when none
// is published.
absl::StatusOr<std::optional<std::string>> FindPublishedCourse(
    TrainingStore& store, absl::string_view competency);

// Opens `wanted` through TrainingStore::CreateRecommendation, blocking the
// calling thread, and logs the outcome with `fields`: `opened` when it is new,
// or that an OPEN one (or this event's) already stood. A recommendation the
// store refuses as invalid is logged and counts as done (OK): it would be
// refused the same way on every delivery. Other errors are returned, for the
// event to be retried.
absl::Status OpenRecommendation(TrainingStore& store,
                                const v1::Recommendation& wanted,
                                LogFields fields, absl::string_view opened);

}  // namespace prima::catalog
