#include "services/common/request_bounds.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "prima/queue/v1/queue.pb.h"

namespace prima {
namespace {

namespace qv1 = ::prima::queue::v1;
namespace cv1 = ::prima::complaint::v1;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

void ExpectInvalid(const absl::Status& status, absl::string_view field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), absl::StrCat(field, ": ")))
      << status;
}

qv1::BookAppointmentRequest BookingAt(int64_t seconds, int32_t nanos = 0) {
  qv1::BookAppointmentRequest request;
  request.mutable_slot_start_time()->set_seconds(seconds);
  request.mutable_slot_start_time()->set_nanos(nanos);
  return request;
}

TEST(CheckRequestBoundsTest, AcceptsTimestampsFromYear1ToYear9999) {
  EXPECT_TRUE(CheckRequestBounds(qv1::BookAppointmentRequest()).ok());
  EXPECT_TRUE(CheckRequestBounds(BookingAt(0)).ok());
  EXPECT_TRUE(CheckRequestBounds(BookingAt(kMinTimestampSeconds)).ok());
  EXPECT_TRUE(
      CheckRequestBounds(BookingAt(kMaxTimestampSeconds, 999999999)).ok());
}

TEST(CheckRequestBoundsTest, RefusesTimestampsOutsideTheRangeNamingTheField) {
  for (int64_t seconds : {kInt64Min, kInt64Max, kMinTimestampSeconds - 1,
                          kMaxTimestampSeconds + 1}) {
    ExpectInvalid(CheckRequestBounds(BookingAt(seconds)),
                  "slot_start_time.seconds");
  }
  ExpectInvalid(CheckRequestBounds(BookingAt(0, -1)), "slot_start_time.nanos");
  ExpectInvalid(CheckRequestBounds(BookingAt(0, 1000000000)),
                "slot_start_time.nanos");
}

TEST(CheckRequestBoundsTest, FindsNestedTimestamps) {
  cv1::ListComplaintsRequest request;
  request.mutable_filed()->mutable_start_time()->set_seconds(0);
  request.mutable_filed()->mutable_end_time()->set_seconds(kInt64Max);
  ExpectInvalid(CheckRequestBounds(request), "filed.end_time.seconds");
}

TEST(CheckRequestBoundsTest, ChecksDurations) {
  // Duration as a request of its own: the walker starts at any message.
  google::protobuf::Duration d;
  d.set_seconds(kMaxDurationSeconds);
  d.set_nanos(999999999);
  EXPECT_TRUE(CheckRequestBounds(d).ok());
  d.set_seconds(kMaxDurationSeconds + 1);
  ExpectInvalid(CheckRequestBounds(d), ".seconds");
  d.set_seconds(-5);
  d.set_nanos(5);  // signs differ
  ExpectInvalid(CheckRequestBounds(d), ".nanos");
}

TEST(RequestFingerprintTest, SameRequestSameFingerprintAnyChangeAnother) {
  qv1::IssueTicketRequest a;
  a.set_request_id("r-0123456789abcdef");
  a.set_office_id("kantor-a");
  a.set_service_id("ktp");
  qv1::IssueTicketRequest b = a;
  EXPECT_EQ(RequestFingerprint(a), RequestFingerprint(b));
  EXPECT_EQ(RequestFingerprint(a).size(), 32u);
  b.set_service_id("kk");
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(b));
  b = a;
  b.GetReflection()->MutableUnknownFields(&b)->AddVarint(999, 1);
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(b));
}

}  // namespace
}  // namespace prima
