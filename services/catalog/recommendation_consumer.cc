#include "services/catalog/recommendation_consumer.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/done.h"

namespace prima::catalog {

using prima::catalog::v1::Recommendation;

ConsumerOptions CatalogConsumerOptions(absl::string_view producer) {
  ConsumerOptions options;
  options.stream = EventStreamKey(producer);
  options.group = "catalog";
  return options;
}

absl::StatusOr<std::optional<std::string>> FindPublishedCourse(
    TrainingStore& store, absl::string_view competency) {
  CourseFilter filter;
  filter.competency = std::string(competency);
  filter.status = v1::COURSE_STATUS_PUBLISHED;
  filter.page_size = 1;  // courses are listed by id: the first is the lowest
  // A page may come back empty with a cursor when the script stopped scanning
  // early; keep going until a course or the end.
  while (true) {
    absl::StatusOr<TrainingStore::CoursePage> page =
        Await<TrainingStore::CoursePage>(
            [&](StoreDone<TrainingStore::CoursePage> done) {
              store.ListCourses(filter, std::move(done));
            });
    if (!page.ok()) return page.status();
    if (!page->courses.empty()) return page->courses.front().id();
    if (page->next_cursor.empty()) return std::nullopt;
    filter.cursor = page->next_cursor;
  }
}

absl::Status OpenRecommendation(TrainingStore& store,
                                const Recommendation& wanted, LogFields fields,
                                absl::string_view opened) {
  absl::StatusOr<Recommendation> made =
      Await<Recommendation>([&](StoreDone<Recommendation> done) {
        store.CreateRecommendation(wanted, std::move(done));
      });
  if (absl::IsInvalidArgument(made.status())) {
    Log(LogLevel::kWarn, "event not turned into a recommendation",
        fields.Add("error", made.status().message()));
    return absl::OkStatus();
  }
  if (!made.ok()) return made.status();
  Log(LogLevel::kInfo,
      made->source_event_id() == wanted.source_event_id()
          ? opened
          : "training already recommended and still open",
      fields.Add("recommendation", made->id())
          .Add("course", made->course_id()));
  return absl::OkStatus();
}

}  // namespace prima::catalog
