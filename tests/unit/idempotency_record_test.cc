#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "services/common/events.h"

namespace prima {
namespace {

TEST(RecordedResultTest, PlainRecordsAreTheResult) {
  // Records made before fingerprints, or for internal callers.
  EXPECT_EQ(*RecordedResult("5:hello", "ab12"), "5:hello");
  EXPECT_EQ(*RecordedResult("", ""), "");
}

TEST(RecordedResultTest, FingerprintedRecordAnswersOnlyItsOwnRequest) {
  const std::string record = "fp1:ab12:5:hello";
  EXPECT_EQ(*RecordedResult(record, "ab12"), "5:hello");
  EXPECT_EQ(*RecordedResult(record, ""), "5:hello");  // not checked
  absl::StatusOr<std::string> other = RecordedResult(record, "cd34");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(other.status().message().find("hello"), std::string::npos);
  EXPECT_EQ(RecordedResult("fp1:no-colon-after", "").status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace prima
