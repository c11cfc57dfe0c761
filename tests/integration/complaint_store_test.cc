// The complaint store's keys and scripts against a real redis-server.
#include "services/complaint/complaint_store.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/common/directory_keys.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/complaint/complaint_flow.h"
#include "services/complaint/complaint_rules.h"
#include "tests/testing/redis_server.h"

namespace prima::complaint {
namespace {

namespace ev = prima::events::v1;
using ::prima::testing::TestRedis;

constexpr char kAgency[] = "dukcapil-dki";
constexpr char kOtherAgency[] = "disdik-dki";
constexpr char kOffice[] = "kantor-gambir";
constexpr char kStream[] = "prima:events:complaint";
constexpr absl::Duration kWait = absl::Seconds(5);

// 2026-11-24 10:00 WIB.
absl::Time Start() { return absl::FromUnixSeconds(1795489200); }

class ComplaintStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = TestRedis::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    RedisClient::Options options;
    options.endpoint = redis_->endpoint();
    auto client = RedisClient::Start(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    ASSERT_TRUE(client_->WaitUntilUsable(kWait));
    store_ = std::make_unique<ComplaintStore>(*client_, clock_, keys_);
  }

  void TearDown() override {
    store_.reset();
    if (client_) client_->Stop();
  }

  ComplaintActor Actor(absl::string_view subject = "citizen-1") {
    return ComplaintActor{std::string(subject),
                          absl::StrCat("req-", ++request_seq_)};
  }

  // A complaint about `office` filed now, as PrepareFiling shapes it.
  NewComplaint Filing(absl::string_view agency = kAgency,
                      absl::string_view office = kOffice,
                      v1::Category category = v1::CATEGORY_SERVICE_RELATED,
                      absl::string_view officer = "") {
    const absl::Time now = clock_.Now();
    const absl::CivilDay day =
        absl::ToCivilDay(now, absl::FixedTimeZone(7 * 3600));
    NewComplaint filing;
    v1::Complaint& c = filing.complaint;
    c.set_id(absl::AsciiStrToLower(NewTimeOrderedId(now)));
    c.set_agency_id(std::string(agency));
    c.set_office_id(std::string(office));
    c.set_officer_id(std::string(officer));
    c.set_category(category);
    c.set_classification(v1::CLASSIFICATION_PENGADUAN);
    c.set_title("Antrean KTP lama");
    c.set_description("Menunggu tiga jam tanpa kejelasan di loket.");
    c.set_status(v1::COMPLAINT_STATUS_SUBMITTED);
    *c.mutable_file_time() = ToProtoTime(now);
    *c.mutable_update_time() = ToProtoTime(now);
    v1::Deadline* verify = c.add_deadlines();
    verify->set_kind(v1::DEADLINE_KIND_VERIFY);
    *verify->mutable_due_time() = ToProtoTime(now + absl::Hours(72));
    *filing.filed_entry.mutable_time() = ToProtoTime(now);
    filing.filed_entry.set_to_status(v1::COMPLAINT_STATUS_SUBMITTED);
    filing.tracking_prefix = TrackingPrefix(agency, day);
    filing.local_date = DateDigits(day);
    filing.receipt_secret = keys_.CurrentSecret(kComplaintReceipt, c.id());
    filing.reporter_subject = "citizen-1";
    ev::ComplaintFiled filed;
    filed.set_complaint_id(c.id());
    filed.set_office_id(c.office_id());
    filing.filed_event = MakeEnvelope("complaint.filed", agency,
                                      kComplaintProducer, filed, now, "req");
    return filing;
  }

  v1::Complaint File(const NewComplaint& filing, const ComplaintActor& actor) {
    auto filed = Await<v1::Complaint>([&](Done<v1::Complaint> done) {
      store_->File(filing, actor, std::move(done));
    });
    EXPECT_TRUE(filed.ok()) << filed.status();
    return filed.ok() ? *filed : v1::Complaint();
  }
  v1::Complaint File(const NewComplaint& filing) {
    return File(filing, Actor());
  }

  absl::StatusOr<StoredComplaint> Load(absl::string_view tracking) {
    return Await<StoredComplaint>([&](Done<StoredComplaint> done) {
      store_->Load(tracking, std::move(done));
    });
  }
  StoredComplaint MustLoad(absl::string_view tracking) {
    absl::StatusOr<StoredComplaint> stored = Load(tracking);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *stored : StoredComplaint();
  }

  absl::StatusOr<StoredComplaint> Save(const StoredComplaint& before,
                                       const ComplaintChange& change,
                                       const ComplaintActor& actor,
                                       absl::string_view rpc = "Verify") {
    return Await<StoredComplaint>([&](Done<StoredComplaint> done) {
      store_->Save(rpc, before, change, actor, std::move(done));
    });
  }

  // A verify-like move: VERIFIED, the VERIFY deadline met, a FOLLOW_UP
  // deadline opened, one entry and one event.
  ComplaintChange Verify(const StoredComplaint& before) {
    const absl::Time now = clock_.Now();
    ComplaintChange change;
    change.updated = before.complaint;
    change.updated.clear_timeline();
    change.updated.set_status(v1::COMPLAINT_STATUS_VERIFIED);
    *change.updated.mutable_update_time() = ToProtoTime(now);
    *change.updated.mutable_deadlines(0)->mutable_met_time() = ToProtoTime(now);
    v1::Deadline* follow_up = change.updated.add_deadlines();
    follow_up->set_kind(v1::DEADLINE_KIND_FOLLOW_UP);
    *follow_up->mutable_due_time() = ToProtoTime(now + absl::Hours(120));
    v1::TimelineEntry entry;
    *entry.mutable_time() = ToProtoTime(now);
    entry.set_from_status(before.complaint.status());
    entry.set_to_status(v1::COMPLAINT_STATUS_VERIFIED);
    entry.set_note("verified");
    change.appended.push_back(entry);
    ev::ComplaintStatusChanged payload;
    payload.set_complaint_id(before.complaint.id());
    payload.set_to_status("VERIFIED");
    change.events.push_back(MakeEnvelope("complaint.status_changed",
                                         before.complaint.agency_id(),
                                         kComplaintProducer, payload, now));
    return change;
  }

  // A move to `status` with no deadline change and no event.
  ComplaintChange SetStatus(const StoredComplaint& before,
                            v1::ComplaintStatus status) {
    ComplaintChange change;
    change.updated = before.complaint;
    change.updated.clear_timeline();
    change.updated.set_status(status);
    *change.updated.mutable_update_time() = ToProtoTime(clock_.Now());
    v1::TimelineEntry entry;
    entry.set_to_status(status);
    change.appended.push_back(entry);
    return change;
  }

  StoredComplaint MustSave(const StoredComplaint& before,
                           const ComplaintChange& change) {
    absl::StatusOr<StoredComplaint> saved = Save(before, change, Actor("o-1"));
    EXPECT_TRUE(saved.ok()) << saved.status();
    return saved.ok() ? *saved : StoredComplaint();
  }

  ListPage MustList(const ListFilter& filter) {
    auto page = Await<ListPage>(
        [&](Done<ListPage> done) { store_->List(filter, std::move(done)); });
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : ListPage();
  }

  // The tracking numbers of one page, in order.
  static std::vector<std::string> Numbers(const ListPage& page) {
    std::vector<std::string> out;
    for (const StoredComplaint& item : page.items) {
      out.push_back(item.complaint.tracking_number());
    }
    return out;
  }

  std::vector<DueDeadline> Due(absl::Time now) {
    auto due = Await<std::vector<DueDeadline>>(
        [&](Done<std::vector<DueDeadline>> done) {
          store_->DueDeadlines(now, 100, std::move(done));
        });
    EXPECT_TRUE(due.ok()) << due.status();
    return due.ok() ? *due : std::vector<DueDeadline>();
  }

  bool MarkOverdue(const DueDeadline& deadline) {
    auto marked = Await<bool>([&](Done<bool> done) {
      store_->MarkOverdue(deadline, OverdueEvent(deadline, clock_.Now()),
                          std::move(done));
    });
    EXPECT_TRUE(marked.ok()) << marked.status();
    return marked.ok() && *marked;
  }

  int64_t StreamLength() { return redis_->Command({"XLEN", kStream})->integer; }

  // The envelopes in the complaint stream, oldest first.
  std::vector<ev::EventEnvelope> Events() {
    std::vector<ev::EventEnvelope> out;
    auto range = redis_->Command({"XRANGE", kStream, "-", "+"});
    EXPECT_TRUE(range.ok()) << range.status();
    for (const RedisValue& entry : range->elements) {
      const auto& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str != "envelope") continue;
        ev::EventEnvelope envelope;
        EXPECT_TRUE(envelope.ParseFromString(fields[i + 1].str));
        out.push_back(envelope);
      }
    }
    return out;
  }

  std::vector<std::string> DueMembers() {
    std::vector<std::string> out;
    auto members =
        redis_->Command({"ZRANGE", "prima:complaint:due", "0", "-1"});
    EXPECT_TRUE(members.ok()) << members.status();
    for (const RedisValue& m : members->elements) out.push_back(m.str);
    return out;
  }

  FakeClock clock_{Start()};
  std::unique_ptr<TestRedis> redis_;
  std::unique_ptr<RedisClient> client_;
  const ReceiptKeys keys_ = ReceiptKeys::FromJwtSecret("store test key");
  std::unique_ptr<ComplaintStore> store_;
  int request_seq_ = 0;
};

TEST_F(ComplaintStoreTest, TrackingNumbersCountPerAgencyAndDay) {
  EXPECT_EQ(File(Filing()).tracking_number(), "DUKCAPIL-DKI-20261124-0001");
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(File(Filing()).tracking_number(), "DUKCAPIL-DKI-20261124-0002");
  EXPECT_EQ(File(Filing(kOtherAgency)).tracking_number(),
            "DISDIK-DKI-20261124-0001");
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(File(Filing()).tracking_number(), "DUKCAPIL-DKI-20261125-0001");
  // Day counters expire rather than pile up.
  auto ttl =
      redis_->Command({"TTL", "prima:complaint:seq:dukcapil-dki:20261124"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
}

TEST_F(ComplaintStoreTest, FileRetryReturnsTheFirstResultAndWritesNothing) {
  const NewComplaint filing = Filing();
  const ComplaintActor actor = Actor();
  const v1::Complaint first = File(filing, actor);
  ASSERT_FALSE(first.receipt_secret().empty());
  EXPECT_EQ(first.receipt_secret(), filing.receipt_secret);
  ASSERT_EQ(first.timeline_size(), 1);
  EXPECT_EQ(first.timeline(0).to_status(), v1::COMPLAINT_STATUS_SUBMITTED);

  // A retry of the same request, even with a fresh secret prepared.
  NewComplaint again = filing;
  again.receipt_secret = NewSecret();
  const v1::Complaint second = File(again, actor);
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(second.tracking_number(), first.tracking_number());
  EXPECT_EQ(second.receipt_secret(), first.receipt_secret());
  EXPECT_EQ(second.timeline_size(), 1);

  const std::vector<ev::EventEnvelope> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), "complaint.filed");
  EXPECT_EQ(events[0].agency(), kAgency);
  ev::ComplaintFiled payload;
  ASSERT_TRUE(events[0].payload().UnpackTo(&payload));
  EXPECT_EQ(payload.tracking_number(), first.tracking_number());
  EXPECT_EQ(payload.complaint_id(), first.id());
  EXPECT_EQ(payload.office_id(), kOffice);
  // The retry took no number: the next filing is the second of the day.
  EXPECT_EQ(File(Filing()).tracking_number(), "DUKCAPIL-DKI-20261124-0002");
}

TEST_F(ComplaintStoreTest, LoadReturnsWhatWasFiled) {
  const NewComplaint filing = Filing();
  const v1::Complaint filed = File(filing);
  const StoredComplaint stored = MustLoad(filed.tracking_number());
  EXPECT_EQ(stored.complaint.id(), filing.complaint.id());
  EXPECT_EQ(stored.complaint.tracking_number(), filed.tracking_number());
  EXPECT_EQ(stored.complaint.title(), filing.complaint.title());
  EXPECT_EQ(stored.complaint.status(), v1::COMPLAINT_STATUS_SUBMITTED);
  EXPECT_TRUE(stored.complaint.receipt_secret().empty());
  ASSERT_EQ(stored.complaint.timeline_size(), 1);
  EXPECT_EQ(stored.complaint.timeline(0).SerializeAsString(),
            filing.filed_entry.SerializeAsString());
  ASSERT_EQ(stored.complaint.deadlines_size(), 1);
  EXPECT_FALSE(stored.complaint.deadlines(0).overdue());
  EXPECT_EQ(stored.secret_sha, Sha256Hex(filing.receipt_secret));
  EXPECT_EQ(stored.reporter_subject, "citizen-1");
  EXPECT_EQ(stored.version, 1);
  // The plain secret is nowhere in the complaint's hash.
  auto hash = redis_->Command(
      {"HVALS", absl::StrCat("prima:complaint:c:", filed.id())});
  ASSERT_TRUE(hash.ok());
  for (const RedisValue& v : hash->elements) {
    EXPECT_FALSE(absl::StrContains(v.str, filing.receipt_secret));
  }
  EXPECT_EQ(DueMembers(), std::vector<std::string>{filed.id() + ":0"});

  absl::StatusOr<StoredComplaint> missing = Load("DUKCAPIL-DKI-20261124-0099");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "complaint DUKCAPIL-DKI-20261124-0099 does not exist");
}

TEST_F(ComplaintStoreTest, SaveWritesAppendsMovesDeadlinesAndEmits) {
  const v1::Complaint filed = File(Filing());
  const StoredComplaint before = MustLoad(filed.tracking_number());
  clock_.Advance(absl::Hours(1));
  const StoredComplaint after = MustSave(before, Verify(before));
  EXPECT_EQ(after.version, 2);
  EXPECT_EQ(after.complaint.status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(after.complaint.tracking_number(), filed.tracking_number());
  ASSERT_EQ(after.complaint.timeline_size(), 2);
  EXPECT_EQ(after.complaint.timeline(0).SerializeAsString(),
            before.complaint.timeline(0).SerializeAsString());
  EXPECT_EQ(after.complaint.timeline(1).note(), "verified");
  EXPECT_EQ(after.secret_sha, before.secret_sha);

  const StoredComplaint loaded = MustLoad(filed.tracking_number());
  EXPECT_EQ(loaded.version, 2);
  EXPECT_EQ(loaded.complaint.timeline_size(), 2);
  EXPECT_TRUE(loaded.complaint.deadlines(0).has_met_time());
  // The met VERIFY deadline left `due`; the new FOLLOW_UP one is in it.
  EXPECT_EQ(DueMembers(), std::vector<std::string>{filed.id() + ":1"});

  const std::vector<ev::EventEnvelope> events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "complaint.status_changed");
}

TEST_F(ComplaintStoreTest, StaleSaveIsAbortedAndWritesNothing) {
  const v1::Complaint filed = File(Filing());
  const StoredComplaint before = MustLoad(filed.tracking_number());
  MustSave(before, Verify(before));
  const int64_t events = StreamLength();

  // Decided on the old copy.
  ComplaintChange stale = SetStatus(before, v1::COMPLAINT_STATUS_REJECTED);
  stale.events = Verify(before).events;
  absl::StatusOr<StoredComplaint> saved = Save(before, stale, Actor("o-1"));
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(saved.status().message(),
            absl::StrCat("complaint ", filed.tracking_number(),
                         " changed meanwhile; reload and retry"));
  const StoredComplaint now = MustLoad(filed.tracking_number());
  EXPECT_EQ(now.version, 2);
  EXPECT_EQ(now.complaint.status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(now.complaint.timeline_size(), 2);
  EXPECT_EQ(StreamLength(), events);
}

TEST_F(ComplaintStoreTest, SaveRetryAndReplayReturnTheFirstResult) {
  const v1::Complaint filed = File(Filing());
  const StoredComplaint before = MustLoad(filed.tracking_number());
  const ComplaintActor actor = Actor("o-1");
  const ComplaintChange change = Verify(before);

  // Before the move ran: the refusal.
  auto refused = Await<StoredComplaint>([&](Done<StoredComplaint> done) {
    store_->Replay("Verify", actor,
                   absl::FailedPreconditionError("complaint is VERIFIED"),
                   std::move(done));
  });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<StoredComplaint> first = Save(before, change, actor);
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t events = StreamLength();
  // The client's retry: the store still sees version 1 in `before`, which is
  // stale now, yet the recorded result comes back.
  absl::StatusOr<StoredComplaint> again = Save(before, change, actor);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version, 2);
  EXPECT_EQ(again->complaint.SerializeAsString(),
            first->complaint.SerializeAsString());
  EXPECT_EQ(StreamLength(), events);
  EXPECT_EQ(MustLoad(filed.tracking_number()).version, 2);

  // The flow refuses the retry (VERIFIED cannot be verified): the replay.
  auto replayed = Await<StoredComplaint>([&](Done<StoredComplaint> done) {
    store_->Replay("Verify", actor,
                   absl::FailedPreconditionError("complaint is VERIFIED"),
                   std::move(done));
  });
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->complaint.SerializeAsString(),
            first->complaint.SerializeAsString());
  EXPECT_EQ(replayed->version, 2);
  // Another rpc with the same request id is another request.
  auto other = Await<StoredComplaint>([&](Done<StoredComplaint> done) {
    store_->Replay("Assign", actor, absl::NotFoundError("refused"),
                   std::move(done));
  });
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ComplaintStoreTest, ForwardingMovesTheComplaintBetweenAgencies) {
  const v1::Complaint filed = File(Filing());
  ListFilter of_first;
  of_first.agency_id = kAgency;
  ListFilter of_second;
  of_second.agency_id = kOtherAgency;
  EXPECT_EQ(Numbers(MustList(of_first)),
            std::vector<std::string>{filed.tracking_number()});
  EXPECT_TRUE(MustList(of_second).items.empty());

  const StoredComplaint before = MustLoad(filed.tracking_number());
  ComplaintChange forward = SetStatus(before, v1::COMPLAINT_STATUS_VERIFIED);
  forward.updated.set_agency_id(kOtherAgency);
  forward.updated.set_office_id("");
  MustSave(before, forward);

  EXPECT_TRUE(MustList(of_first).items.empty());
  const ListPage page = MustList(of_second);
  ASSERT_EQ(Numbers(page), std::vector<std::string>{filed.tracking_number()});
  EXPECT_EQ(page.items[0].complaint.agency_id(), kOtherAgency);
  // It keeps its filing time in the new agency's list.
  auto score = redis_->Command(
      {"ZSCORE", "prima:complaint:agency:disdik-dki", filed.id()});
  ASSERT_TRUE(score.ok());
  EXPECT_EQ(score->str,
            absl::StrCat(absl::ToUnixMillis(ToAbslTime(filed.file_time()))));
}

TEST_F(ComplaintStoreTest, ListFiltersNewestFirst) {
  // Five complaints an hour apart.
  std::vector<std::string> numbers;
  const struct {
    const char* office;
    v1::Category category;
    const char* officer;
  } kFilings[] = {
      {kOffice, v1::CATEGORY_SERVICE_RELATED, ""},
      {"kantor-tebet", v1::CATEGORY_ATTITUDINAL, "petugas-1"},
      {kOffice, v1::CATEGORY_ATTITUDINAL, "petugas-2"},
      {"kantor-tebet", v1::CATEGORY_MECHANICAL, ""},
      {kOffice, v1::CATEGORY_ATTITUDINAL, "petugas-1"},
  };
  for (const auto& f : kFilings) {
    numbers.push_back(File(Filing(kAgency, f.office, f.category, f.officer))
                          .tracking_number());
    clock_.Advance(absl::Hours(1));
  }
  // Another agency's complaint never shows.
  File(Filing(kOtherAgency));
  // The second one moves on.
  const StoredComplaint second = MustLoad(numbers[1]);
  MustSave(second, Verify(second));

  ListFilter filter;
  filter.agency_id = kAgency;
  EXPECT_EQ(Numbers(MustList(filter)),
            (std::vector<std::string>{numbers[4], numbers[3], numbers[2],
                                      numbers[1], numbers[0]}));
  const ListPage all = MustList(filter);
  EXPECT_TRUE(all.next_cursor.empty());
  EXPECT_EQ(all.items[0].reporter_subject, "citizen-1");
  EXPECT_FALSE(all.items[0].secret_sha.empty());
  EXPECT_EQ(all.items[0].complaint.timeline_size(), 0);

  ListFilter by_status = filter;
  by_status.status = v1::COMPLAINT_STATUS_VERIFIED;
  EXPECT_EQ(Numbers(MustList(by_status)), std::vector<std::string>{numbers[1]});

  ListFilter by_category = filter;
  by_category.category = v1::CATEGORY_ATTITUDINAL;
  EXPECT_EQ(Numbers(MustList(by_category)),
            (std::vector<std::string>{numbers[4], numbers[2], numbers[1]}));

  ListFilter by_office = filter;
  by_office.office_id = "kantor-tebet";
  EXPECT_EQ(Numbers(MustList(by_office)),
            (std::vector<std::string>{numbers[3], numbers[1]}));

  ListFilter by_officer = by_category;
  by_officer.officer_id = "petugas-1";
  EXPECT_EQ(Numbers(MustList(by_officer)),
            (std::vector<std::string>{numbers[4], numbers[1]}));

  // [second filing, fourth filing): the second and third.
  ListFilter by_date = filter;
  by_date.filed_from = Start() + absl::Hours(1);
  by_date.filed_to = Start() + absl::Hours(3);
  EXPECT_EQ(Numbers(MustList(by_date)),
            (std::vector<std::string>{numbers[2], numbers[1]}));

  ListFilter overdue = filter;
  overdue.overdue_only = true;
  EXPECT_TRUE(MustList(overdue).items.empty());
  // The first filing's VERIFY deadline is missed.
  std::vector<DueDeadline> due = Due(Start() + absl::Hours(72));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].tracking_number, numbers[0]);
  ASSERT_TRUE(MarkOverdue(due[0]));
  EXPECT_EQ(Numbers(MustList(overdue)), std::vector<std::string>{numbers[0]});
}

TEST_F(ComplaintStoreTest, ListPagesCoverEveryComplaintOnce) {
  std::vector<std::string> numbers;
  for (int i = 0; i < 7; ++i) {
    numbers.push_back(File(Filing()).tracking_number());
    // Two filings in each millisecond: ties must page correctly too.
    if (i % 2 == 1) clock_.Advance(absl::Minutes(1));
  }
  ListFilter filter;
  filter.agency_id = kAgency;
  filter.page_size = 2;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    const ListPage page = MustList(filter);
    EXPECT_LE(page.items.size(), 2u);
    for (const std::string& n : Numbers(page)) seen.push_back(n);
    filter.cursor = page.next_cursor;
    ASSERT_LT(++pages, 10) << "the cursor does not advance";
  } while (!filter.cursor.empty());
  EXPECT_EQ(seen.size(), numbers.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()),
            std::set<std::string>(numbers.begin(), numbers.end()));
  // Newest first by filing time across pages (ties in any order): the
  // last one filed alone first, the first two filed last.
  EXPECT_EQ(seen.front(), numbers[6]);
  EXPECT_EQ(std::set<std::string>(seen.end() - 2, seen.end()),
            (std::set<std::string>{numbers[0], numbers[1]}));

  ListFilter bad = filter;
  bad.cursor = "not-a-cursor";
  auto refused = Await<ListPage>(
      [&](Done<ListPage> done) { store_->List(bad, std::move(done)); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "page_token"));
  for (int size : {0, 501}) {
    ListFilter wrong = filter;
    wrong.cursor = "";
    wrong.page_size = size;
    auto r = Await<ListPage>(
        [&](Done<ListPage> done) { store_->List(wrong, std::move(done)); });
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_TRUE(absl::StrContains(r.status().message(), "page_size"));
  }
}

TEST_F(ComplaintStoreTest, StatsCountFilingsAndResolutions) {
  std::vector<std::string> numbers;
  numbers.push_back(File(Filing()).tracking_number());
  numbers.push_back(File(Filing(kAgency, kOffice, v1::CATEGORY_ATTITUDINAL))
                        .tracking_number());
  numbers.push_back(File(Filing(kAgency, "kantor-tebet")).tracking_number());
  clock_.Advance(absl::Hours(48));
  // Outside the period below.
  File(Filing());

  // Two resolved: one in time, one late.
  for (int i = 0; i < 2; ++i) {
    const StoredComplaint before = MustLoad(numbers[i]);
    ComplaintChange resolve = SetStatus(before, v1::COMPLAINT_STATUS_RESOLVED);
    resolve.resolution =
        Resolution{.seconds = 1000 * (i + 1), .within_deadline = i == 0};
    MustSave(before, resolve);
  }

  StatsQuery query;
  query.agency_id = kAgency;
  query.from = Start();
  query.to = Start() + absl::Hours(48);
  auto stats = Await<RawStats>(
      [&](Done<RawStats> done) { store_->Stats(query, std::move(done)); });
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->filed, 3);
  EXPECT_EQ(stats->by_status,
            (std::map<int, int64_t>{{v1::COMPLAINT_STATUS_SUBMITTED, 1},
                                    {v1::COMPLAINT_STATUS_RESOLVED, 2}}));
  EXPECT_EQ(stats->by_category,
            (std::map<int, int64_t>{{v1::CATEGORY_SERVICE_RELATED, 2},
                                    {v1::CATEGORY_ATTITUDINAL, 1}}));
  // Resolved after the period's end.
  EXPECT_TRUE(stats->resolve_seconds.empty());

  query.to = Start() + absl::Hours(49);
  query.office_id = kOffice;
  stats = Await<RawStats>(
      [&](Done<RawStats> done) { store_->Stats(query, std::move(done)); });
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->filed, 3);  // two then one more at hour 48, one elsewhere
  std::vector<int64_t> seconds = stats->resolve_seconds;
  std::sort(seconds.begin(), seconds.end());
  EXPECT_EQ(seconds, (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(stats->resolved_within, 1);
}

TEST_F(ComplaintStoreTest, PoliciesFallBackToAllCategoriesThenDefaults) {
  auto get = [&](absl::string_view agency, v1::Category category) {
    auto policy = Await<v1::DeadlinePolicy>([&](Done<v1::DeadlinePolicy> done) {
      store_->GetPolicy(agency, category, std::move(done));
    });
    EXPECT_TRUE(policy.ok()) << policy.status();
    return policy.ok() ? *policy : v1::DeadlinePolicy();
  };
  auto set = [&](v1::Category category, int verify) {
    v1::DeadlinePolicy policy;
    policy.set_agency_id(kAgency);
    policy.set_category(category);
    policy.set_verify_working_days(verify);
    policy.set_follow_up_working_days(7);
    policy.set_response_days(14);
    auto stored = Await<v1::DeadlinePolicy>([&](Done<v1::DeadlinePolicy> done) {
      store_->SetPolicy(policy, Actor("admin-1"), std::move(done));
    });
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->SerializeAsString(), policy.SerializeAsString());
  };

  v1::DeadlinePolicy defaults = get(kAgency, v1::CATEGORY_MECHANICAL);
  EXPECT_EQ(defaults.agency_id(), kAgency);
  EXPECT_EQ(defaults.category(), v1::CATEGORY_MECHANICAL);
  EXPECT_EQ(defaults.verify_working_days(), kDefaultVerifyWorkingDays);
  EXPECT_EQ(defaults.follow_up_working_days(), kDefaultFollowUpWorkingDays);
  EXPECT_EQ(defaults.response_days(), kDefaultResponseDays);

  set(v1::CATEGORY_UNSPECIFIED, 4);
  v1::DeadlinePolicy all = get(kAgency, v1::CATEGORY_MECHANICAL);
  EXPECT_EQ(all.category(), v1::CATEGORY_MECHANICAL);
  EXPECT_EQ(all.verify_working_days(), 4);
  EXPECT_EQ(all.response_days(), 14);

  set(v1::CATEGORY_MECHANICAL, 2);
  EXPECT_EQ(get(kAgency, v1::CATEGORY_MECHANICAL).verify_working_days(), 2);
  EXPECT_EQ(get(kAgency, v1::CATEGORY_ATTITUDINAL).verify_working_days(), 4);
  EXPECT_EQ(get(kOtherAgency, v1::CATEGORY_MECHANICAL).verify_working_days(),
            kDefaultVerifyWorkingDays);
}

TEST_F(ComplaintStoreTest, OverdueDeadlinesAreMarkedOnce) {
  const v1::Complaint filed = File(Filing());
  const StoredComplaint before = MustLoad(filed.tracking_number());
  const absl::Time due_at = ToAbslTime(filed.deadlines(0).due_time());

  EXPECT_TRUE(Due(due_at - absl::Milliseconds(1)).empty());
  std::vector<DueDeadline> due = Due(due_at);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].complaint_id, filed.id());
  EXPECT_EQ(due[0].tracking_number, filed.tracking_number());
  EXPECT_EQ(due[0].agency_id, kAgency);
  EXPECT_EQ(due[0].office_id, kOffice);
  EXPECT_EQ(due[0].index, 0);
  EXPECT_EQ(due[0].kind, v1::DEADLINE_KIND_VERIFY);
  EXPECT_EQ(due[0].due, due_at);

  const int64_t events = StreamLength();
  EXPECT_TRUE(MarkOverdue(due[0]));
  EXPECT_FALSE(MarkOverdue(due[0]));  // another replica's second try
  EXPECT_EQ(StreamLength(), events + 1);
  EXPECT_EQ(Events().back().type(), "complaint.overdue");
  EXPECT_TRUE(Due(due_at + absl::Hours(1)).empty());

  const StoredComplaint marked = MustLoad(filed.tracking_number());
  EXPECT_TRUE(marked.complaint.deadlines(0).overdue());
  EXPECT_EQ(marked.version, before.version + 1);
  // A save decided before the mark is stale.
  EXPECT_EQ(Save(before, SetStatus(before, v1::COMPLAINT_STATUS_REJECTED),
                 Actor("o-1"))
                .status()
                .code(),
            absl::StatusCode::kAborted);

  // A later save from a copy that lost the flag does not put the deadline
  // back in `due`.
  ComplaintChange comment = SetStatus(marked, v1::COMPLAINT_STATUS_SUBMITTED);
  comment.updated.mutable_deadlines(0)->set_overdue(false);
  const StoredComplaint saved = MustSave(marked, comment);
  EXPECT_TRUE(saved.complaint.deadlines(0).overdue());
  EXPECT_TRUE(DueMembers().empty());
  EXPECT_TRUE(Due(due_at + absl::Hours(1)).empty());
}

TEST_F(ComplaintStoreTest, FirstOfficeOfReadsTheDirectoryIndex) {
  const std::string index =
      directory::AgencyIndexKey(directory::Kind::kOffice, kAgency);
  ASSERT_TRUE(
      redis_
          ->Command({"ZADD", index, "0", "kantor-tebet", "0", "kantor-gambir"})
          .ok());
  auto first = Await<std::string>([&](Done<std::string> done) {
    store_->FirstOfficeOf(kAgency, std::move(done));
  });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "kantor-gambir");
  auto none = Await<std::string>([&](Done<std::string> done) {
    store_->FirstOfficeOf(kOtherAgency, std::move(done));
  });
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, "");
}

}  // namespace
}  // namespace prima::complaint
