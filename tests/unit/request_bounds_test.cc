#include "services/common/request_bounds.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "prima/queue/v1/queue.pb.h"

namespace prima {
namespace {

namespace qv1 = ::prima::queue::v1;
namespace cv1 = ::prima::complaint::v1;
namespace dv1 = ::prima::catalog::v1;

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

TEST(CheckRequestBoundsTest, StringsHoldAThousandCharactersUnlessDeclared) {
  cv1::FileComplaintRequest request;
  request.mutable_complaint()->set_title(std::string(1000, 'a'));
  EXPECT_TRUE(CheckRequestBounds(request).ok());
  // Characters, not bytes: 1000 two-byte characters fit.
  std::string accented;
  for (int i = 0; i < 1000; ++i) accented += "\xc3\xa9";
  request.mutable_complaint()->set_title(accented);
  EXPECT_TRUE(CheckRequestBounds(request).ok());
  request.mutable_complaint()->set_title(std::string(1001, 'a'));
  absl::Status status = CheckRequestBounds(request);
  ExpectInvalid(status, "complaint.title");
  EXPECT_TRUE(absl::StrContains(status.message(), "at most 1000 characters"))
      << status;

  // complaint.proto declares 8000 for the description.
  request.mutable_complaint()->clear_title();
  request.mutable_complaint()->set_description(std::string(8000, 'd'));
  EXPECT_TRUE(CheckRequestBounds(request).ok());
  request.mutable_complaint()->set_description(std::string(8001, 'd'));
  ExpectInvalid(CheckRequestBounds(request), "complaint.description");
}

TEST(CheckRequestBoundsTest, RepeatedFieldsHoldAHundredUnlessDeclared) {
  cv1::FileComplaintRequest request;
  for (int i = 0; i < 100; ++i) {
    request.mutable_complaint()->add_attachment_urls("https://x.example/a");
  }
  EXPECT_TRUE(CheckRequestBounds(request).ok());
  request.mutable_complaint()->add_attachment_urls("https://x.example/b");
  absl::Status status = CheckRequestBounds(request);
  ExpectInvalid(status, "complaint.attachment_urls");
  EXPECT_TRUE(absl::StrContains(status.message(), "at most 100 elements"))
      << status;

  // Each element of a repeated string is a string of the default size.
  request.mutable_complaint()->clear_attachment_urls();
  request.mutable_complaint()->add_attachment_urls(std::string(1001, 'u'));
  ExpectInvalid(CheckRequestBounds(request), "complaint.attachment_urls[0]");

  // directory.proto declares 5000 offices for ApplyDirectory.
  dv1::ApplyDirectoryRequest apply;
  for (int i = 0; i < 5000; ++i) apply.add_offices();
  EXPECT_TRUE(CheckRequestBounds(apply).ok());
  apply.add_offices();
  ExpectInvalid(CheckRequestBounds(apply), "offices");
  // Nested messages are walked too.
  apply.clear_offices();
  apply.add_offices()->set_name(std::string(1001, 'n'));
  ExpectInvalid(CheckRequestBounds(apply), "offices[0].name");
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
