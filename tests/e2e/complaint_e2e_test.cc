// End to end: the real `catalog` and `complaint` binaries against a real
// Redis, driven only by the real `prima` CLI the way citizens and staff would:
// - a citizen's complaint through its whole life (file with contact details,
//   verify, assign, start, internal note, resolve, the citizen reads it with
//   the receipt secret, accepts and rates; a supervisor lists it and reads the
//   month's figures; another agency's officer cannot see it; an illegal move is
//   refused);
// - an attitudinal complaint about an officer turns, through the
//   `complaint.filed` stream and the catalog's consumer, into one open
//   recommendation of the published Pelayanan Prima course, and a second
//   complaint about the same officer does not add another;
// - a complaint forwarded from dukcapil-dki to samsat-papua changes hands.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "tests/testing/e2e_stack.h"

namespace prima {
namespace {

using ::prima::catalog::v1::ListRecommendationsResponse;
using ::prima::catalog::v1::Recommendation;
using ::prima::complaint::v1::Complaint;
using ::prima::complaint::v1::ComplaintStats;
using ::prima::complaint::v1::ListComplaintsResponse;
using ::prima::complaint::v1::TimelineEntry;
using ::prima::testing::ExpectRpcError;
using ::prima::testing::FromJson;

namespace cv1 = ::prima::complaint::v1;

constexpr char kDukcapil[] = "dukcapil-dki";
constexpr char kSamsat[] = "samsat-papua";
constexpr char kCourse[] = "pelayanan-prima";

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

class ComplaintE2eTest : public testing::E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        StartStack(PRIMA_CLI_PATH, {{"catalog", PRIMA_CATALOG_PATH},
                                    {"complaint", PRIMA_COMPLAINT_PATH}}));
    ASSERT_NO_FATAL_FAILURE(ApplyDirectory(PRIMA_DEMO_DIRECTORY));
  }

  // `prima complaint ARGS -o json [--token TOKEN]`.
  testing::ProcessResult Complaints(std::vector<std::string> args,
                                    const std::string& token = "") {
    args.insert(args.begin(), "complaint");
    args.insert(args.end(), {"-o", "json"});
    return Prima(std::move(args), token);
  }

  // Files an anonymous attitudinal complaint about `officer` of dukcapil-dki;
  // its tracking number.
  std::string FileAttitudinal(const std::string& officer) {
    testing::ProcessResult r = Complaints(
        {"file", "--agency", kDukcapil, "--category", "attitudinal",
         "--officer", officer, "--anonymous", "--title",
         "Petugas loket membentak pemohon", "--description",
         "Petugas loket berbicara dengan nada tinggi dan menolak menjelaskan "
         "persyaratan yang kurang."});
    EXPECT_EQ(r.exit_code, 0) << r.err << StderrText("complaint");
    const Complaint filed = FromJson<Complaint>(r);
    EXPECT_EQ(filed.category(), cv1::CATEGORY_ATTITUDINAL) << r.out;
    EXPECT_TRUE(filed.anonymous()) << r.out;
    EXPECT_FALSE(filed.has_reporter_contact()) << r.out;
    EXPECT_FALSE(filed.tracking_number().empty()) << r.out;
    return filed.tracking_number();
  }

  // The recommendations of `officer` of dukcapil-dki, read through the CLI
  // with a supervisor's token.
  std::vector<Recommendation> Recommendations(const std::string& officer,
                                              const std::string& supervisor) {
    testing::ProcessResult r =
        Prima({"recommendations", "list", "--agency", kDukcapil, "--officer",
               officer, "-o", "json"},
              supervisor);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const ListRecommendationsResponse list =
        FromJson<ListRecommendationsResponse>(r);
    return {list.recommendations().begin(), list.recommendations().end()};
  }

  // The OPEN recommendations of the Pelayanan Prima course for `officer`.
  std::vector<Recommendation> OpenCourseRecommendations(
      const std::string& officer, const std::string& supervisor) {
    std::vector<Recommendation> open;
    for (const Recommendation& rec : Recommendations(officer, supervisor)) {
      if (rec.status() == catalog::v1::RECOMMENDATION_STATUS_OPEN &&
          rec.course_id() == kCourse && rec.officer_id() == officer) {
        open.push_back(rec);
      }
    }
    return open;
  }

  // Polls until `officer` has at least one OPEN course recommendation or
  // `limit` passes; the OPEN ones at that point.
  std::vector<Recommendation> AwaitOpenCourseRecommendations(
      const std::string& officer, const std::string& supervisor,
      absl::Duration limit) {
    const absl::Time until = absl::Now() + limit;
    std::vector<Recommendation> open;
    while (true) {
      open = OpenCourseRecommendations(officer, supervisor);
      if (!open.empty() || absl::Now() >= until) return open;
      absl::SleepFor(absl::Milliseconds(200));
    }
  }
};

TEST_F(ComplaintE2eTest, CitizenComplaintThroughItsWholeLife) {
  const std::string citizen = Mint("citizen", "warga-budi", "");
  const std::string officer = Mint("officer", "andi-pratama", kDukcapil);
  const std::string supervisor =
      Mint("supervisor", "bambang-susilo", kDukcapil);
  const std::string foreign = Mint("officer", "yohanes-wenda", kSamsat);
  ASSERT_TRUE(stack_->redis().EnableAppendOnly().ok());

  // ---- the citizen files, with contact details, naming an office ----
  testing::ProcessResult r = Complaints(
      {"file",
       "--agency",
       kDukcapil,
       "--office",
       "dukcapil-jaksel",
       "--classification",
       "pengaduan",
       "--category",
       "service-related",
       "--title",
       "KTP-el belum jadi setelah tiga minggu",
       "--description",
       "Saya merekam KTP-el tiga minggu lalu dan dijanjikan selesai dalam "
       "satu hari kerja, tetapi sampai sekarang belum dapat diambil.",
       "--incident-date",
       "2026-01-05",
       "--contact-name",
       "Budi Santoso",
       "--contact-phone",
       "+6281234567890",
       "--contact-email",
       "budi.santoso@example.com"},
      citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("complaint");
  const Complaint filed = FromJson<Complaint>(r);
  const std::string tracking = filed.tracking_number();
  const std::string secret = filed.receipt_secret();
  // AGENCY-YYYYMMDD-NNNN.
  ASSERT_TRUE(absl::StartsWith(tracking, "DUKCAPIL-DKI-")) << r.out;
  EXPECT_EQ(tracking.size(), std::string("DUKCAPIL-DKI-20261124-0001").size())
      << tracking;
  ASSERT_FALSE(secret.empty()) << r.out;
  // Derived from a server key, never stored: not in any Redis value, not in
  // the append-only file (the hash is, which shows the search works).
  absl::StatusOr<std::vector<std::string>> stored =
      stack_->redis().WhereStored(secret);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->empty()) << absl::StrJoin(*stored, ", ");
  stored = stack_->redis().WhereStored(Sha256Hex(secret));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GE(stored->size(), 2u) << absl::StrJoin(*stored, ", ");
  EXPECT_EQ(filed.status(), cv1::COMPLAINT_STATUS_SUBMITTED);
  EXPECT_EQ(filed.agency_id(), kDukcapil);
  EXPECT_EQ(filed.office_id(), "dukcapil-jaksel");
  EXPECT_EQ(filed.classification(), cv1::CLASSIFICATION_PENGADUAN);
  EXPECT_EQ(filed.category(), cv1::CATEGORY_SERVICE_RELATED);

  // The table output shows both, once, to keep.
  r = Prima({"complaint", "get", tracking, "--secret", secret});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, tracking)) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "SUBMITTED")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, secret)) << r.out;

  // ---- dukcapil's officer handles it ----
  r = Complaints({"verify", tracking, "--note", "Berkas lengkap"}, officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Complaint>(r).status(), cv1::COMPLAINT_STATUS_VERIFIED);
  r = Complaints({"assign", tracking, "--officer", "siti-rahmawati"}, officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Complaint assigned = FromJson<Complaint>(r);
    EXPECT_EQ(assigned.status(), cv1::COMPLAINT_STATUS_ASSIGNED);
    EXPECT_EQ(assigned.assigned_officer_id(), "siti-rahmawati");
  }
  // An officer the directory does not know is not an assignee.
  r = Complaints({"assign", tracking, "--officer", "petugas-fiktif"}, officer);
  EXPECT_NE(r.exit_code, 0) << r.out;
  r = Complaints({"start", tracking}, officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Complaint>(r).status(), cv1::COMPLAINT_STATUS_IN_PROGRESS);
  r = Complaints({"comment", tracking, "--internal", "--text",
                  "Catatan internal: printer blanko KTP-el rusak sejak Senin"},
                 officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Complaints({"comment", tracking, "--text",
                  "Mohon maaf, KTP-el Bapak sedang kami proses ulang."},
                 officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Staff read it, internal note included, but not the reporter's contact.
  r = Complaints({"get", tracking}, officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Complaint seen = FromJson<Complaint>(r);
    EXPECT_FALSE(seen.has_reporter_contact()) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "printer blanko")) << r.out;
  }

  // Time to resolve is counted in whole seconds: make it at least one.
  absl::SleepFor(ToAbslTime(filed.file_time()) + absl::Milliseconds(1100) -
                 absl::Now());
  const std::string resolution =
      "KTP-el sudah dicetak ulang dan dapat diambil di Loket 1 mulai besok.";
  r = Complaints({"resolve", tracking, "--resolution", resolution}, officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Complaint resolved = FromJson<Complaint>(r);
  EXPECT_EQ(resolved.status(), cv1::COMPLAINT_STATUS_RESOLVED);
  const int64_t resolve_seconds = absl::ToInt64Seconds(
      ToAbslTime(resolved.update_time()) - ToAbslTime(filed.file_time()));
  EXPECT_GE(resolve_seconds, 1);

  // ---- the citizen, with the receipt secret and no token ----
  r = Complaints({"get", tracking, "--secret", secret});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Complaint seen = FromJson<Complaint>(r);
    EXPECT_EQ(seen.status(), cv1::COMPLAINT_STATUS_RESOLVED);
    EXPECT_EQ(seen.resolution(), resolution);
    EXPECT_FALSE(seen.has_reporter_contact()) << r.out;
    EXPECT_TRUE(seen.receipt_secret().empty()) << r.out;
    for (const TimelineEntry& e : seen.timeline()) {
      EXPECT_FALSE(e.internal()) << r.out;
    }
    EXPECT_FALSE(absl::StrContains(r.out, "printer blanko")) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "sedang kami proses ulang")) << r.out;
  }
  // A wrong secret reads nothing.
  r = Complaints({"get", tracking, "--secret", "bukan-rahasia-yang-benar"});
  ExpectRpcError(r, "NOT_FOUND");

  r = Complaints({"respond", tracking, "--secret", secret, "--accept"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Complaint>(r).status(), cv1::COMPLAINT_STATUS_CLOSED);
  r = Complaints({"rate", tracking, "--secret", secret, "--rating", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Complaint rated = FromJson<Complaint>(r);
    EXPECT_EQ(rated.rating(), 5);
    EXPECT_EQ(rated.status(), cv1::COMPLAINT_STATUS_CLOSED);
  }

  // ---- the supervisor lists it, with the contact, and reads the month ----
  r = Complaints({"list", "--agency", kDukcapil}, supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const ListComplaintsResponse list = FromJson<ListComplaintsResponse>(r);
    ASSERT_EQ(list.complaints_size(), 1) << r.out;
    const Complaint& item = list.complaints(0);
    EXPECT_EQ(item.tracking_number(), tracking);
    EXPECT_EQ(item.status(), cv1::COMPLAINT_STATUS_CLOSED);
    EXPECT_EQ(item.reporter_contact().name(), "Budi Santoso") << r.out;
    EXPECT_EQ(item.reporter_contact().phone(), "+6281234567890") << r.out;
    EXPECT_EQ(item.reporter_contact().email(), "budi.santoso@example.com");
    EXPECT_TRUE(item.receipt_secret().empty()) << r.out;
  }
  // The filter by status finds it; another status does not.
  r = Complaints({"list", "--agency", kDukcapil, "--status", "closed"},
                 supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<ListComplaintsResponse>(r).complaints_size(), 1) << r.out;
  r = Complaints({"list", "--agency", kDukcapil, "--status", "submitted"},
                 supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<ListComplaintsResponse>(r).complaints_size(), 0) << r.out;

  const absl::CivilMonth month(
      absl::ToCivilSecond(ToAbslTime(filed.file_time()), absl::UTCTimeZone()));
  r = Complaints({"stats", "--agency", kDukcapil, "--from",
                  Rfc3339(absl::FromCivil(month, absl::UTCTimeZone())), "--to",
                  Rfc3339(absl::Now() + absl::Minutes(1))},
                 supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const ComplaintStats stats = FromJson<ComplaintStats>(r);
    EXPECT_EQ(stats.agency_id(), kDukcapil);
    EXPECT_EQ(stats.filed(), 1) << r.out;
    int closed = 0;
    for (const cv1::StatusCount& c : stats.by_status()) {
      if (c.status() == cv1::COMPLAINT_STATUS_CLOSED) closed += c.count();
      EXPECT_NE(c.status(), cv1::COMPLAINT_STATUS_SUBMITTED) << r.out;
    }
    EXPECT_EQ(closed, 1) << r.out;
    int service_related = 0;
    for (const cv1::CategoryCount& c : stats.by_category()) {
      if (c.category() == cv1::CATEGORY_SERVICE_RELATED) {
        service_related += c.count();
      }
    }
    EXPECT_EQ(service_related, 1) << r.out;
    EXPECT_GT(stats.median_seconds_to_resolve(), 0) << r.out;
    EXPECT_DOUBLE_EQ(stats.median_seconds_to_resolve(),
                     static_cast<double>(resolve_seconds))
        << r.out;
    EXPECT_DOUBLE_EQ(stats.resolved_within_deadline_share(), 1.0) << r.out;
  }
  // Figures are for managers, not officers.
  r = Complaints({"stats", "--agency", kDukcapil, "--from",
                  Rfc3339(absl::FromCivil(month, absl::UTCTimeZone())), "--to",
                  Rfc3339(absl::Now() + absl::Minutes(1))},
                 officer);
  ExpectRpcError(r, "PERMISSION_DENIED");

  // ---- another agency's officer does not even learn it exists ----
  r = Complaints({"get", tracking}, foreign);
  ExpectRpcError(r, "NOT_FOUND");
  r = Complaints({"get", "DUKCAPIL-DKI-20260101-9999"}, officer);
  ExpectRpcError(r, "NOT_FOUND");

  // ---- an illegal move ----
  r = Complaints({"verify", tracking}, officer);
  ExpectRpcError(r, "FAILED_PRECONDITION");
  r = Complaints({"rate", tracking, "--secret", secret, "--rating", "4"});
  ExpectRpcError(r, "FAILED_PRECONDITION");  // a resolution is rated once
}

TEST_F(ComplaintE2eTest, AttitudinalComplaintRecommendsTrainingOnce) {
  const std::string supervisor =
      Mint("supervisor", "bambang-susilo", kDukcapil);
  const std::string admin = Mint("region_admin", "e2e-admin");

  testing::ProcessResult r =
      Prima({"courses", "create", "-f", PRIMA_COURSE_FILE}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Prima({"courses", "publish", kCourse}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Prima({"courses", "list", "--competency", "service-attitude", "--status",
             "published"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(absl::StrContains(r.out, kCourse)) << r.out;

  // Nothing recommended before any complaint.
  EXPECT_TRUE(Recommendations("andi-pratama", supervisor).empty());

  const std::string first = FileAttitudinal("andi-pratama");
  ASSERT_FALSE(first.empty());
  std::vector<Recommendation> open = AwaitOpenCourseRecommendations(
      "andi-pratama", supervisor, absl::Seconds(10));
  ASSERT_EQ(open.size(), 1u) << StderrText("catalog");
  EXPECT_EQ(open[0].agency(), kDukcapil);
  EXPECT_EQ(open[0].office_id(), "dukcapil-jaksel");
  EXPECT_TRUE(absl::StrContains(open[0].reason(), first)) << open[0].reason();
  const std::string id = open[0].id();

  // A second complaint about the same officer, then one about another officer
  // as a marker: the consumer reads the stream in order, so once the marker's
  // recommendation exists the second complaint has been handled.
  const std::string second = FileAttitudinal("andi-pratama");
  ASSERT_FALSE(second.empty());
  ASSERT_NE(second, first);
  const std::string marker = FileAttitudinal("dewi-lestari");
  std::vector<Recommendation> dewi = AwaitOpenCourseRecommendations(
      "dewi-lestari", supervisor, absl::Seconds(10));
  ASSERT_EQ(dewi.size(), 1u) << StderrText("catalog");
  EXPECT_EQ(dewi[0].office_id(), "dukcapil-jaktim");
  EXPECT_TRUE(absl::StrContains(dewi[0].reason(), marker)) << dewi[0].reason();

  open = OpenCourseRecommendations("andi-pratama", supervisor);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].id(), id);
  EXPECT_TRUE(absl::StrContains(open[0].reason(), first)) << open[0].reason();
  EXPECT_EQ(Recommendations("andi-pratama", supervisor).size(), 1u);
}

TEST_F(ComplaintE2eTest, ForwardedComplaintChangesAgency) {
  const std::string dukcapil = Mint("officer", "andi-pratama", kDukcapil);
  const std::string samsat = Mint("officer", "yohanes-wenda", kSamsat);

  testing::ProcessResult r = Complaints(
      {"file", "--agency", kDukcapil, "--category", "service-related",
       "--title", "Pajak kendaraan tidak bisa dibayar", "--description",
       "Saya ingin membayar PKB tahunan tetapi loket menolak karena kendaraan "
       "terdaftar di Jayapura."});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Complaint filed = FromJson<Complaint>(r);
  const std::string tracking = filed.tracking_number();
  ASSERT_FALSE(tracking.empty()) << r.out;
  ASSERT_FALSE(filed.receipt_secret().empty()) << r.out;

  // Not samsat's yet.
  r = Complaints({"get", tracking}, samsat);
  ExpectRpcError(r, "NOT_FOUND");
  // Forwarding needs a verified complaint.
  r = Complaints({"forward", tracking, "--to-agency", kSamsat}, dukcapil);
  ExpectRpcError(r, "FAILED_PRECONDITION");

  r = Complaints({"verify", tracking}, dukcapil);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Complaint>(r).status(), cv1::COMPLAINT_STATUS_VERIFIED);
  r = Complaints({"forward", tracking, "--to-agency", kSamsat, "--note",
                  "Kewenangan Samsat Papua"},
                 dukcapil);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Complaint>(r).agency_id(), kSamsat) << r.out;

  // Dukcapil no longer sees it; samsat does, verified and theirs.
  r = Complaints({"get", tracking}, dukcapil);
  ExpectRpcError(r, "NOT_FOUND");
  r = Complaints({"get", tracking}, samsat);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Complaint seen = FromJson<Complaint>(r);
  EXPECT_EQ(seen.status(), cv1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(seen.agency_id(), kSamsat);
  EXPECT_EQ(seen.tracking_number(), tracking);
  bool forwarded = false;
  for (const TimelineEntry& e : seen.timeline()) {
    if (e.to_status() == cv1::COMPLAINT_STATUS_FORWARDED) {
      forwarded = true;
      EXPECT_EQ(e.from_agency(), kDukcapil);
      EXPECT_EQ(e.to_agency(), kSamsat);
    }
  }
  EXPECT_TRUE(forwarded) << r.out;

  // It is in samsat's list and no longer in dukcapil's.
  r = Complaints({"list", "--agency", kSamsat}, samsat);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<ListComplaintsResponse>(r).complaints_size(), 1) << r.out;
  r = Complaints({"list", "--agency", kDukcapil}, dukcapil);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<ListComplaintsResponse>(r).complaints_size(), 0) << r.out;

  // Samsat's officer carries on with it.
  r = Complaints({"assign", tracking, "--officer", "maria-kogoya"}, samsat);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Complaint>(r).status(), cv1::COMPLAINT_STATUS_ASSIGNED);
}

}  // namespace
}  // namespace prima
