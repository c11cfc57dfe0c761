// The satisfaction store's keys and scripts against a real redis-server.
#include "services/satisfaction/satisfaction_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/done.h"
#include "services/common/error_info.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/receipt_keys.h"
#include "tests/testing/redis_server.h"

namespace prima::satisfaction {
namespace {

namespace ev = prima::events::v1;
using ::prima::testing::TestRedis;

constexpr char kAgency[] = "dukcapil-dki";
constexpr char kOtherAgency[] = "disdik-dki";
constexpr char kOffice[] = "kantor-gambir";
constexpr char kOtherOffice[] = "kantor-menteng";
constexpr char kService[] = "ktp-el";
constexpr char kStream[] = "prima:events:satisfaction";
constexpr char kP[] = "prima:satisfaction:";
constexpr absl::Duration kWait = absl::Seconds(5);

// 2026-11-24 10:00 WIB.
absl::Time Start() { return absl::FromUnixSeconds(1795489200); }
const absl::TimeZone& Wib() {
  static const absl::TimeZone* zone =
      new absl::TimeZone(absl::FixedTimeZone(7 * 3600));
  return *zone;
}

struct Answer {
  std::string code;
  int value = 0;
  int expectation = 0;
};

class SatisfactionStoreTest : public ::testing::Test {
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
    store_ = std::make_unique<SatisfactionStore>(*client_, clock_, keys_);
  }

  void TearDown() override {
    store_.reset();
    if (client_) client_->Stop();
  }

  SatisfactionActor Actor(absl::string_view subject = "") {
    return SatisfactionActor{std::string(subject),
                             absl::StrCat("req-", ++request_seq_, "-abcdefgh")};
  }

  // The kiosk `name` at `office` (registered through the store on first
  // use): its id and the SHA-256 of its credential.
  struct StoredKiosk {
    std::string id;
    std::string credential_sha;
  };
  StoredKiosk KioskAt(absl::string_view office, absl::string_view name) {
    const std::string id = absl::StrCat(name, "-", office);
    auto it = kiosks_.find(id);
    if (it != kiosks_.end()) return it->second;
    v1::Kiosk kiosk;
    kiosk.set_id(id);
    kiosk.set_office_id(std::string(office));
    kiosk.set_agency_id(kAgency);
    kiosk.set_name("Tablet");
    *kiosk.mutable_create_time() = ToProtoTime(clock_.Now());
    absl::StatusOr<v1::Kiosk> registered =
        Await<v1::Kiosk>([&](Done<v1::Kiosk> done) {
          store_->RegisterKiosk(kiosk, Actor("admin"), std::move(done));
        });
    EXPECT_TRUE(registered.ok()) << registered.status();
    StoredKiosk stored{id, registered.ok() ? Sha256Hex(registered->credential())
                                           : std::string()};
    kiosks_[id] = stored;
    return stored;
  }

  // A response to "skm" at `office` submitted now, by its kiosk "kiosk-1"
  // (or, after ByInvitation, through an invitation).
  NewResponse Submission(const std::vector<Answer>& answers,
                         absl::string_view officer = "",
                         absl::string_view office = kOffice,
                         absl::string_view template_id = "skm") {
    const absl::Time now = clock_.Now();
    const absl::CivilDay day = absl::ToCivilDay(now, Wib());
    NewResponse out;
    v1::Response& r = out.response;
    r.set_id(absl::AsciiStrToLower(NewTimeOrderedId(now)));
    r.set_agency_id(kAgency);
    r.set_office_id(std::string(office));
    r.set_service_id(kService);
    r.set_officer_id(std::string(officer));
    r.set_template_id(std::string(template_id));
    r.set_template_version(1);
    for (const Answer& a : answers) {
      v1::Answer* answer = r.add_answers();
      answer->set_code(a.code);
      answer->set_value(a.value);
      answer->set_expectation(a.expectation);
    }
    r.set_source(v1::INVITATION_SOURCE_UNSPECIFIED);
    *r.mutable_submit_time() = ToProtoTime(now);
    r.mutable_local_date()->set_year(static_cast<int32_t>(day.year()));
    r.mutable_local_date()->set_month(day.month());
    r.mutable_local_date()->set_day(day.day());
    const StoredKiosk kiosk = KioskAt(office, "kiosk-1");
    out.kiosk_id = kiosk.id;
    out.kiosk_credential_sha = kiosk.credential_sha;
    out.scopes = {{v1::SCOPE_KIND_AGENCY, kAgency},
                  {v1::SCOPE_KIND_OFFICE, std::string(office)},
                  {v1::SCOPE_KIND_SERVICE, kService}};
    if (!officer.empty()) {
      out.scopes.push_back({v1::SCOPE_KIND_OFFICER, std::string(officer)});
    }
    out.period_keys = StoredPeriodKeysOf(day);
    ev::SatisfactionResponseSubmitted payload;
    payload.set_response_id(r.id());
    payload.set_template_id(r.template_id());
    payload.set_office_id(r.office_id());
    out.event = MakeEnvelope("satisfaction.response_submitted", kAgency,
                             kSatisfactionProducer, payload, now, "req");
    return out;
  }

  absl::StatusOr<v1::Response> Submit(const NewResponse& submission,
                                      const SatisfactionActor& actor) {
    return Await<v1::Response>([&](Done<v1::Response> done) {
      store_->SubmitResponse(submission, actor, std::move(done));
    });
  }
  absl::StatusOr<v1::Response> Submit(const NewResponse& submission) {
    return Submit(submission, Actor());
  }

  // An invitation for `source_id` expiring in a week; its token is `token`.
  v1::Invitation Invitation(absl::string_view token,
                            absl::string_view source_id = "t-1",
                            absl::Duration valid_for = absl::Hours(7 * 24)) {
    v1::Invitation inv;
    inv.set_token(std::string(token));
    inv.set_agency_id(kAgency);
    inv.set_office_id(kOffice);
    inv.set_service_id(kService);
    inv.set_officer_id("officer-1");
    inv.set_source(v1::INVITATION_SOURCE_TICKET);
    inv.set_source_id(std::string(source_id));
    inv.set_template_id("skm");
    inv.set_template_version(1);
    *inv.mutable_create_time() = ToProtoTime(clock_.Now());
    *inv.mutable_expire_time() = ToProtoTime(clock_.Now() + valid_for);
    return inv;
  }

  absl::StatusOr<v1::Invitation> Invite(const v1::Invitation& inv,
                                        const SatisfactionActor& actor) {
    return Await<v1::Invitation>([&](Done<v1::Invitation> done) {
      store_->CreateInvitation(inv, Sha256Hex(inv.token()), actor,
                               std::move(done));
    });
  }
  absl::StatusOr<v1::Invitation> GetInvitation(absl::string_view token) {
    return Await<v1::Invitation>([&](Done<v1::Invitation> done) {
      store_->GetInvitation(Sha256Hex(token), std::move(done));
    });
  }

  // A submission through the invitation of `token`.
  NewResponse ByInvitation(absl::string_view token,
                           const std::vector<Answer>& answers) {
    NewResponse s = Submission(answers, "officer-1");
    s.kiosk_id.clear();
    s.kiosk_credential_sha.clear();
    s.invitation_sha = Sha256Hex(token);
    s.response.set_source(v1::INVITATION_SOURCE_TICKET);
    return s;
  }

  absl::StatusOr<Aggregate> GetAggregate(
      const ScopeRef& scope, const std::vector<std::string>& periods,
      absl::string_view template_id = "skm") {
    return Await<Aggregate>([&](Done<Aggregate> done) {
      store_->GetAggregate(template_id, scope, periods, std::move(done));
    });
  }

  absl::StatusOr<bool> CountVisit(absl::string_view event_id,
                                  const std::vector<ScopeRef>& scopes,
                                  const std::vector<std::string>& periods) {
    return Await<bool>([&](Done<bool> done) {
      store_->CountVisit(event_id, scopes, periods, std::move(done));
    });
  }

  std::map<std::string, std::string> Hash(absl::string_view key) {
    auto reply = redis_->Command({"HGETALL", absl::StrCat(kP, key)});
    std::map<std::string, std::string> out;
    if (!reply.ok()) return out;
    for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
      out[reply->elements[i].str] = reply->elements[i + 1].str;
    }
    return out;
  }
  int64_t StreamLength() { return redis_->Command({"XLEN", kStream})->integer; }

  std::string Today() {
    return StoredPeriodKeysOf(absl::ToCivilDay(clock_.Now(), Wib()))[0];
  }

  FakeClock clock_{Start()};
  std::unique_ptr<TestRedis> redis_;
  std::unique_ptr<RedisClient> client_;
  const ReceiptKeys keys_ =
      ReceiptKeys::FromJwtSecret("satisfaction-store-test-secret-0123456789");
  std::unique_ptr<SatisfactionStore> store_;
  std::map<std::string, StoredKiosk> kiosks_;
  int request_seq_ = 0;
};

const Aggregate::Dimension* FindDimension(const Aggregate& aggregate,
                                          absl::string_view code) {
  for (const Aggregate::Dimension& d : aggregate.dimensions) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

// ---- submissions ----

TEST_F(SatisfactionStoreTest, KioskSubmissionStoresResponseAndEvent) {
  NewResponse s = Submission({{"U1", 3}, {"U2", 4}});
  absl::StatusOr<v1::Response> stored = Submit(s);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->id(), s.response.id());
  EXPECT_EQ(stored->answers_size(), 2);

  auto raw = redis_->Command({"GET", absl::StrCat(kP, "r:", s.response.id())});
  ASSERT_TRUE(raw.ok());
  v1::Response parsed;
  ASSERT_TRUE(parsed.ParseFromString(raw->str));
  EXPECT_EQ(parsed.office_id(), kOffice);
  auto score = redis_->Command(
      {"ZSCORE", absl::StrCat(kP, "rs:", kAgency), s.response.id()});
  ASSERT_TRUE(score.ok());
  EXPECT_EQ(score->str, absl::StrCat(absl::ToUnixMillis(clock_.Now())));
  EXPECT_EQ(StreamLength(), 1);
  auto entries = redis_->Command({"XRANGE", kStream, "-", "+"});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->elements.size(), 1u);
  bool typed = false;
  const RedisValue& fields = entries->elements[0].elements[1];
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    typed |= fields.elements[i + 1].str == "satisfaction.response_submitted";
  }
  EXPECT_TRUE(typed);
}

TEST_F(SatisfactionStoreTest, SameRequestIdReplaysAndCountsOnce) {
  NewResponse s = Submission({{"U1", 3}});
  const SatisfactionActor actor = Actor();
  absl::StatusOr<v1::Response> first = Submit(s, actor);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::Response> again = Submit(s, actor);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), first->SerializeAsString());

  auto agg = Hash(absl::StrCat("agg:skm:2:", kOffice, ":", Today()));
  EXPECT_EQ(agg["n"], "1");
  EXPECT_EQ(agg["s:U1"], "3");
  EXPECT_EQ(StreamLength(), 1);
}

TEST_F(SatisfactionStoreTest, SameResponseIdUnderAnotherRequestIsRefused) {
  NewResponse s = Submission({{"U1", 3}});
  ASSERT_TRUE(Submit(s).ok());
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Hash(absl::StrCat("agg:skm:1:", kAgency, ":", Today()))["n"], "1");
}

TEST_F(SatisfactionStoreTest, RequiresExactlyOneChannel) {
  NewResponse s = Submission({{"U1", 3}});
  s.invitation_sha = Sha256Hex("tok");
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kInvalidArgument);
  s.invitation_sha.clear();
  s.kiosk_id.clear();
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SatisfactionStoreTest, KioskIsLimitedPerMinute) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Submit(Submission({{"U1", 4}})).ok()) << i;
  }
  absl::StatusOr<v1::Response> eleventh = Submit(Submission({{"U1", 4}}));
  EXPECT_EQ(eleventh.status().code(), absl::StatusCode::kResourceExhausted)
      << eleventh.status();
  // Refused before writing: ten respondents, ten events.
  EXPECT_EQ(Hash(absl::StrCat("agg:skm:2:", kOffice, ":", Today()))["n"], "10");
  EXPECT_EQ(StreamLength(), 10);
  // The counter expires within the minute (Redis's own clock).
  auto ttl = redis_->Command(
      {"TTL", absl::StrCat(kP, "kiosk-rate:", KioskAt(kOffice, "kiosk-1").id)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 60);

  // Another kiosk has its own budget.
  NewResponse other = Submission({{"U1", 4}});
  const StoredKiosk second = KioskAt(kOffice, "kiosk-2");
  other.kiosk_id = second.id;
  other.kiosk_credential_sha = second.credential_sha;
  EXPECT_TRUE(Submit(other).ok());
}

// The script checks the kiosk itself (the adapter's earlier check may be
// stale): its credential's hash, its office, its revocation.
TEST_F(SatisfactionStoreTest, KioskScriptChecksCredentialOfficeAndRevocation) {
  NewResponse s = Submission({{"U1", 4}});
  s.kiosk_credential_sha = Sha256Hex("not-the-credential");
  absl::StatusOr<v1::Response> refused = Submit(s);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorInfoOf(refused.status()).reason(), "KIOSK_CREDENTIAL_INVALID");
  s = Submission({{"U1", 4}});
  s.kiosk_credential_sha.clear();
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kPermissionDenied);
  s = Submission({{"U1", 4}});
  s.kiosk_id = "kiosk-unknown";
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kPermissionDenied);
  // kiosk-1 of kOffice, at another office.
  s = Submission({{"U1", 4}}, "", "kantor-lain");
  const StoredKiosk at_office = KioskAt(kOffice, "kiosk-1");
  s.kiosk_id = at_office.id;
  s.kiosk_credential_sha = at_office.credential_sha;
  refused = Submit(s);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(),
              ::testing::HasSubstr("kiosk.office_id"));

  absl::StatusOr<v1::Kiosk> revoked =
      Await<v1::Kiosk>([&](Done<v1::Kiosk> done) {
        store_->RevokeKiosk(at_office.id, Actor("admin"), std::move(done));
      });
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_TRUE(revoked->has_revoke_time());
  refused = Submit(Submission({{"U1", 4}}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorInfoOf(refused.status()).reason(), "KIOSK_REVOKED");
  // Nothing was written.
  EXPECT_EQ(StreamLength(), 0);
  EXPECT_TRUE(Hash(absl::StrCat("agg:skm:2:", kOffice, ":", Today())).empty());
}

TEST_F(SatisfactionStoreTest, KioskLimitIsTheCallersSetting) {
  NewResponse s = Submission({{"U1", 4}});
  s.kiosk_per_minute = 1;
  ASSERT_TRUE(Submit(s).ok());
  NewResponse next = Submission({{"U1", 4}});
  next.kiosk_per_minute = 1;
  EXPECT_EQ(Submit(next).status().code(), absl::StatusCode::kResourceExhausted);
  // Once the window is gone (as after its minute), the kiosk submits again.
  ASSERT_TRUE(
      redis_
          ->Command({"DEL", absl::StrCat(kP, "kiosk-rate:",
                                         KioskAt(kOffice, "kiosk-1").id)})
          .ok());
  EXPECT_TRUE(Submit(next).ok());
}

// ---- invitations ----

TEST_F(SatisfactionStoreTest, InvitationIsSingleUse) {
  ASSERT_TRUE(Invite(Invitation("tok-1"), Actor("queue")).ok());
  absl::StatusOr<v1::Response> first =
      Submit(ByInvitation("tok-1", {{"U1", 4}}));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::Invitation> inv = GetInvitation("tok-1");
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->used());

  absl::StatusOr<v1::Response> second =
      Submit(ByInvitation("tok-1", {{"U1", 1}}));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(), "invitation already used");
  EXPECT_EQ(Hash(absl::StrCat("agg:skm:2:", kOffice, ":", Today()))["n"], "1");
  EXPECT_EQ(StreamLength(), 1);
}

TEST_F(SatisfactionStoreTest, ExpiredInvitationIsRefused) {
  ASSERT_TRUE(
      Invite(Invitation("tok-1", "t-1", absl::Hours(1)), Actor("queue")).ok());
  clock_.Advance(absl::Hours(1));
  absl::StatusOr<v1::Response> late =
      Submit(ByInvitation("tok-1", {{"U1", 4}}));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(late.status().message(), "invitation expired");
  absl::StatusOr<v1::Invitation> inv = GetInvitation("tok-1");
  ASSERT_TRUE(inv.ok());
  EXPECT_FALSE(inv->used());
  EXPECT_EQ(StreamLength(), 0);
}

TEST_F(SatisfactionStoreTest, UnknownInvitationIsNotFound) {
  EXPECT_EQ(Submit(ByInvitation("nope", {{"U1", 4}})).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(GetInvitation("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SatisfactionStoreTest, InvitationIsStoredByHashWithoutToken) {
  absl::StatusOr<v1::Invitation> created =
      Invite(Invitation("tok-1"), Actor("queue"));
  ASSERT_TRUE(created.ok()) << created.status();
  // The caller holds the token already (a receipt secret): not echoed.
  EXPECT_EQ(created->token(), "");
  absl::StatusOr<v1::Invitation> read = GetInvitation("tok-1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->token(), "");
  EXPECT_EQ(read->source_id(), "t-1");
  EXPECT_EQ(read->officer_id(), "officer-1");
  EXPECT_FALSE(read->used());
  auto hash = Hash(absl::StrCat("inv:", Sha256Hex("tok-1")));
  EXPECT_EQ(hash["pb"].find("tok-1"), std::string::npos);
  // Kept a week past its expiry, not forever.
  auto ttl =
      redis_->Command({"TTL", absl::StrCat(kP, "inv:", Sha256Hex("tok-1"))});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 13 * 86400);
  EXPECT_LE(ttl->integer, 14 * 86400);
}

TEST_F(SatisfactionStoreTest, OneInvitationPerSource) {
  ASSERT_TRUE(Invite(Invitation("tok-1", "t-9"), Actor("queue")).ok());
  // A duplicate event for the same ticket (another request) with a new token.
  absl::StatusOr<v1::Invitation> dup =
      Invite(Invitation("tok-2", "t-9"), Actor("queue"));
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_EQ(dup->token(), "");
  EXPECT_EQ(dup->source_id(), "t-9");
  EXPECT_EQ(GetInvitation("tok-2").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(GetInvitation("tok-1").ok());
  // Another ticket gets its own.
  EXPECT_TRUE(Invite(Invitation("tok-3", "t-10"), Actor("queue")).ok());
  EXPECT_TRUE(GetInvitation("tok-3").ok());
}

TEST_F(SatisfactionStoreTest, StaffInvitationRetryDerivesTheTokenAgain) {
  const SatisfactionActor actor = Actor("staff-1");
  auto invite = [&] {
    return Await<v1::Invitation>([&](Done<v1::Invitation> done) {
      store_->CreateStaffInvitation(Invitation("", ""), actor, std::move(done));
    });
  };
  absl::StatusOr<v1::Invitation> first = invite();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->token().size(), 32u);
  absl::StatusOr<v1::Invitation> retry = invite();
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->token(), first->token());
  EXPECT_TRUE(GetInvitation(first->token()).ok());
  // Neither the record nor the idempotency record holds it.
  absl::StatusOr<std::vector<std::string>> stored =
      redis_->WhereStored(first->token());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->empty());
}

// ---- aggregates ----

TEST_F(SatisfactionStoreTest, AggregatesHoldHandComputedTallies) {
  // Two respondents today; officer-1 only on the first.
  ASSERT_TRUE(Submit(Submission({{"U1", 3}, {"U2", 4}}, "officer-1")).ok());
  ASSERT_TRUE(Submit(Submission({{"U1", 2}})).ok());
  const std::vector<std::string> periods =
      StoredPeriodKeysOf(absl::ToCivilDay(clock_.Now(), Wib()));
  ASSERT_EQ(periods.size(), 2u);
  // SKM's elements keep counts and sums only: no value counts.
  const std::map<std::string, std::string> want = {
      {"n", "2"}, {"c:U1", "2"}, {"s:U1", "5"}, {"c:U2", "1"}, {"s:U2", "4"}};
  for (const std::string& scope :
       {absl::StrCat("1:", kAgency), absl::StrCat("2:", kOffice),
        absl::StrCat("3:", kService)}) {
    for (const std::string& period : periods) {
      EXPECT_EQ(Hash(absl::StrCat("agg:skm:", scope, ":", period)), want)
          << scope << " " << period;
    }
  }
  const std::map<std::string, std::string> officer = {
      {"n", "1"}, {"c:U1", "1"}, {"s:U1", "3"}, {"c:U2", "1"}, {"s:U2", "4"}};
  EXPECT_EQ(Hash(absl::StrCat("agg:skm:4:officer-1:", periods[1])), officer);
  EXPECT_EQ(Hash(absl::StrCat("agg:skm:4:officer-1:", periods[0])), officer);
  // Nothing is stored under the quarter, semester or year.
  EXPECT_TRUE(Hash(absl::StrCat("agg:skm:2:", kOffice, ":2026-Q4")).empty());
  EXPECT_TRUE(Hash(absl::StrCat("agg:skm:2:", kOffice, ":2026")).empty());
}

TEST_F(SatisfactionStoreTest, CsatAndNpsKeepTheCountOfEachValue) {
  ASSERT_TRUE(
      Submit(Submission({{"CSAT", 5}, {"NPS", 9}}, "", kOffice, "csat-nps"))
          .ok());
  ASSERT_TRUE(
      Submit(Submission({{"CSAT", 5}, {"NPS", 3}}, "", kOffice, "csat-nps"))
          .ok());
  const std::map<std::string, std::string> want = {
      {"n", "2"},     {"c:CSAT", "2"}, {"s:CSAT", "10"}, {"v:CSAT:5", "2"},
      {"c:NPS", "2"}, {"s:NPS", "12"}, {"v:NPS:9", "1"}, {"v:NPS:3", "1"}};
  EXPECT_EQ(Hash(absl::StrCat("agg:csat-nps:2:", kOffice, ":", Today())), want);
  absl::StatusOr<Aggregate> read = GetAggregate(
      {v1::SCOPE_KIND_OFFICE, kOffice}, {Today().substr(0, 7)}, "csat-nps");
  ASSERT_TRUE(read.ok()) << read.status();
  const Aggregate::Dimension* nps = FindDimension(*read, "NPS");
  ASSERT_NE(nps, nullptr);
  EXPECT_EQ(nps->counts_by_value, (std::map<int, int64_t>{{3, 1}, {9, 1}}));
}

TEST_F(SatisfactionStoreTest, ExpectationsSummedOnlyWhenGiven) {
  ASSERT_TRUE(Submit(Submission({{"G1", 3, 5}, {"G2", 4, 0}}, "", kOffice,
                                "gaspersz-10"))
                  .ok());
  auto agg = Hash(absl::StrCat("agg:gaspersz-10:2:", kOffice, ":", Today()));
  EXPECT_EQ(agg["e:G1"], "5");
  EXPECT_EQ(agg.count("e:G2"), 0u);
  absl::StatusOr<Aggregate> read =
      GetAggregate({v1::SCOPE_KIND_OFFICE, kOffice}, {Today()}, "gaspersz-10");
  ASSERT_TRUE(read.ok()) << read.status();
  const Aggregate::Dimension* g1 = FindDimension(*read, "G1");
  ASSERT_NE(g1, nullptr);
  EXPECT_EQ(g1->expectation_sum, 5);
  // Nothing leaks into another template's aggregate.
  EXPECT_TRUE(Hash(absl::StrCat("agg:skm:2:", kOffice, ":", Today())).empty());
}

TEST_F(SatisfactionStoreTest, GetAggregateSumsDaysOfARange) {
  ASSERT_TRUE(Submit(Submission({{"U1", 3}, {"U2", 1}})).ok());
  const std::string day1 = Today();
  clock_.Advance(absl::Hours(24));
  ASSERT_TRUE(Submit(Submission({{"U1", 4}})).ok());
  const std::string day2 = Today();
  ASSERT_NE(day1, day2);
  const ScopeRef office{v1::SCOPE_KIND_OFFICE, kOffice};
  ASSERT_TRUE(CountVisit("ev-1", {office}, {day1}).ok());
  ASSERT_TRUE(CountVisit("ev-2", {office}, {day2}).ok());
  ASSERT_TRUE(CountVisit("ev-3", {office}, {day2}).ok());

  absl::StatusOr<Aggregate> range = GetAggregate(office, {day1, day2});
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(range->respondents, 2);
  EXPECT_EQ(range->population, 3);
  ASSERT_EQ(range->dimensions.size(), 2u);
  EXPECT_EQ(range->dimensions[0].code, "U1");
  EXPECT_EQ(range->dimensions[0].answers, 2);
  EXPECT_EQ(range->dimensions[0].sum, 7);
  EXPECT_TRUE(range->dimensions[0].counts_by_value.empty());
  EXPECT_EQ(range->dimensions[1].code, "U2");
  EXPECT_EQ(range->dimensions[1].answers, 1);
  EXPECT_EQ(range->dimensions[1].sum, 1);

  absl::StatusOr<Aggregate> second_day = GetAggregate(office, {day2});
  ASSERT_TRUE(second_day.ok());
  EXPECT_EQ(second_day->respondents, 1);
  EXPECT_EQ(second_day->population, 2);
  // The month key holds both days already.
  const std::string month = day1.substr(0, 7);
  absl::StatusOr<Aggregate> whole_month = GetAggregate(office, {month});
  ASSERT_TRUE(whole_month.ok());
  EXPECT_EQ(whole_month->respondents, 2);

  absl::StatusOr<Aggregate> none =
      GetAggregate({v1::SCOPE_KIND_OFFICE, kOtherOffice}, {day1});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->respondents, 0);
  EXPECT_TRUE(none->dimensions.empty());
  EXPECT_EQ(GetAggregate(office, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SatisfactionStoreTest, CountVisitDedupesPerEvent) {
  const std::vector<ScopeRef> scopes = {{v1::SCOPE_KIND_AGENCY, kAgency},
                                        {v1::SCOPE_KIND_OFFICE, kOffice}};
  const std::vector<std::string> periods =
      StoredPeriodKeysOf(absl::ToCivilDay(clock_.Now(), Wib()));
  absl::StatusOr<bool> first = CountVisit("ev-1", scopes, periods);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  absl::StatusOr<bool> again = CountVisit("ev-1", scopes, periods);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_TRUE(*CountVisit("ev-2", scopes, periods));
  for (const std::string& period : periods) {
    auto pop = redis_->Command(
        {"GET", absl::StrCat(kP, "pop:2:", kOffice, ":", period)});
    ASSERT_TRUE(pop.ok());
    EXPECT_EQ(pop->str, "2") << period;
  }
  absl::StatusOr<Aggregate> agency =
      GetAggregate({v1::SCOPE_KIND_AGENCY, kAgency}, {periods[1]});
  ASSERT_TRUE(agency.ok());
  EXPECT_EQ(agency->population, 2);
}

TEST_F(SatisfactionStoreTest, ListAggregatesByKindAndAgency) {
  ASSERT_TRUE(Submit(Submission({{"U1", 4}})).ok());
  ASSERT_TRUE(Submit(Submission({{"U1", 2}}, "", kOtherOffice)).ok());
  NewResponse other_agency = Submission({{"U1", 1}}, "", "kantor-disdik");
  other_agency.response.set_agency_id(kOtherAgency);
  other_agency.scopes[0].id = kOtherAgency;
  ASSERT_TRUE(Submit(other_agency).ok());
  const std::string month = Today().substr(0, 7);

  auto list = [&](v1::ScopeKind kind, absl::string_view agency,
                  std::vector<std::string> periods = {}) {
    if (periods.empty()) periods = {month};
    return Await<std::vector<std::pair<std::string, Aggregate>>>(
        [&](Done<std::vector<std::pair<std::string, Aggregate>>> done) {
          store_->ListAggregates("skm", kind, periods, agency, std::move(done));
        });
  };
  auto offices = list(v1::SCOPE_KIND_OFFICE, kAgency);
  ASSERT_TRUE(offices.ok()) << offices.status();
  ASSERT_EQ(offices->size(), 2u);
  EXPECT_EQ((*offices)[0].first, kOffice);
  EXPECT_EQ((*offices)[0].second.dimensions[0].sum, 4);
  EXPECT_EQ((*offices)[1].first, kOtherOffice);
  EXPECT_EQ((*offices)[1].second.dimensions[0].sum, 2);

  auto all_offices = list(v1::SCOPE_KIND_OFFICE, "");
  ASSERT_TRUE(all_offices.ok());
  EXPECT_EQ(all_offices->size(), 3u);

  auto agencies = list(v1::SCOPE_KIND_AGENCY, "");
  ASSERT_TRUE(agencies.ok());
  ASSERT_EQ(agencies->size(), 2u);
  EXPECT_EQ((*agencies)[0].first, kOtherAgency);  // "disdik" < "dukcapil"
  EXPECT_EQ((*agencies)[0].second.respondents, 1);
  EXPECT_EQ((*agencies)[1].second.respondents, 2);

  EXPECT_EQ(list(v1::SCOPE_KIND_SERVICE, "").status().code(),
            absl::StatusCode::kInvalidArgument);

  // Over two months: the scopes of either, each summed over both.
  clock_.Advance(absl::Hours(24 * 31));
  const std::string next_month = Today().substr(0, 7);
  ASSERT_NE(next_month, month);
  ASSERT_TRUE(Submit(Submission({{"U1", 3}}, "", kOtherOffice)).ok());
  ASSERT_TRUE(Submit(Submission({{"U1", 1}}, "", "kantor-baru")).ok());
  auto both = list(v1::SCOPE_KIND_OFFICE, kAgency, {month, next_month});
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 3u);
  EXPECT_EQ((*both)[0].first, "kantor-baru");
  EXPECT_EQ((*both)[0].second.respondents, 1);
  EXPECT_EQ((*both)[1].first, kOffice);
  EXPECT_EQ((*both)[1].second.respondents, 1);
  EXPECT_EQ((*both)[2].first, kOtherOffice);
  EXPECT_EQ((*both)[2].second.respondents, 2);
  EXPECT_EQ((*both)[2].second.dimensions[0].sum, 5);
}

// ---- templates ----

v1::Template CustomTemplate(absl::string_view id, absl::string_view agency,
                            absl::string_view name) {
  v1::Template tpl;
  tpl.set_id(std::string(id));
  tpl.set_agency_id(std::string(agency));
  tpl.set_name(std::string(name));
  tpl.set_kind(v1::TEMPLATE_KIND_SKM);
  v1::Dimension* d = tpl.add_dimensions();
  d->set_code("U1");
  d->set_name("Persyaratan");
  d->set_scale_min(1);
  d->set_scale_max(4);
  return tpl;
}

TEST_F(SatisfactionStoreTest, TemplatesAreVersioned) {
  auto save = [&](const v1::Template& tpl, const SatisfactionActor& actor) {
    return Await<v1::Template>([&](Done<v1::Template> done) {
      store_->SaveTemplate(tpl, actor, std::move(done));
    });
  };
  auto get = [&](absl::string_view id, int version) {
    return Await<v1::Template>([&](Done<v1::Template> done) {
      store_->GetTemplate(id, version, std::move(done));
    });
  };
  absl::StatusOr<v1::Template> v1 =
      save(CustomTemplate("dki-skm", kAgency, "first"), Actor("admin"));
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version(), 1);
  EXPECT_EQ(ToAbslTime(v1->create_time()), clock_.Now());
  const SatisfactionActor actor = Actor("admin");
  absl::StatusOr<v1::Template> v2 =
      save(CustomTemplate("dki-skm", kAgency, "second"), actor);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->version(), 2);
  // A retry of the same request is the same version.
  absl::StatusOr<v1::Template> retry =
      save(CustomTemplate("dki-skm", kAgency, "second"), actor);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->version(), 2);

  absl::StatusOr<v1::Template> latest = get("dki-skm", 0);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->version(), 2);
  EXPECT_EQ(latest->name(), "second");
  absl::StatusOr<v1::Template> first = get("dki-skm", 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->name(), "first");
  EXPECT_EQ(first->version(), 1);
  EXPECT_EQ(get("dki-skm", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(get("nope", 0).status().code(), absl::StatusCode::kNotFound);

  // Another agency cannot take the id.
  EXPECT_EQ(save(CustomTemplate("dki-skm", kOtherAgency, "x"), Actor("admin"))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // Built-in ids are reserved.
  absl::StatusOr<v1::Template> reserved =
      save(CustomTemplate("skm", kAgency, "x"), Actor("admin"));
  EXPECT_EQ(reserved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reserved.status().message(), "template.id: reserved");

  ASSERT_TRUE(
      save(CustomTemplate("dki-csat", kAgency, "csat"), Actor("admin")).ok());
  ASSERT_TRUE(
      save(CustomTemplate("disdik-skm", kOtherAgency, "other"), Actor("admin"))
          .ok());
  auto listed = Await<std::vector<v1::Template>>(
      [&](Done<std::vector<v1::Template>> done) {
        store_->ListTemplates(kAgency, std::move(done));
      });
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id(), "dki-csat");
  EXPECT_EQ((*listed)[1].id(), "dki-skm");
  EXPECT_EQ((*listed)[1].version(), 2);
}

// ---- export ----

TEST_F(SatisfactionStoreTest, ListResponsesPagesThroughOneMillisecondOnce) {
  const absl::Time at = clock_.Now();
  // Submitted at `when`: the response's id.
  auto submit_at = [&](absl::Time when,
                       absl::string_view agency = kAgency) -> std::string {
    clock_.Set(when);
    NewResponse s = Submission({{"U1", 3}});
    s.response.set_agency_id(std::string(agency));
    s.kiosk_per_minute = 100;
    absl::StatusOr<v1::Response> stored = Submit(s);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return s.response.id();
  };
  // In [at - 1 min, at + 1 min): one a second before, five sharing `at`'s
  // millisecond, one a millisecond after. Out: an hour before and after, the
  // upper bound itself, and another agency's at `at`.
  submit_at(at - absl::Hours(1));
  const std::string before = submit_at(at - absl::Seconds(1));
  std::vector<std::string> ties;
  for (int i = 0; i < 5; ++i) ties.push_back(submit_at(at));
  const std::string after = submit_at(at + absl::Milliseconds(1));
  submit_at(at + absl::Minutes(1));
  submit_at(at + absl::Hours(1));
  submit_at(at, kOtherAgency);
  // Equal scores come by id, in byte order.
  std::sort(ties.begin(), ties.end());
  std::vector<std::string> expected = {before};
  expected.insert(expected.end(), ties.begin(), ties.end());
  expected.push_back(after);

  auto list = [&](const ResponseCursor& cursor, int limit) {
    return Await<ResponsePage>([&](Done<ResponsePage> done) {
      store_->ListResponses(kAgency, at - absl::Minutes(1),
                            at + absl::Minutes(1), cursor, limit,
                            std::move(done));
    });
  };
  // Pages of 2: the cursors fall inside the run of equal milliseconds.
  std::vector<std::string> got;
  std::vector<size_t> page_sizes;
  ResponseCursor cursor;
  for (int pages = 0; pages < 10; ++pages) {
    absl::StatusOr<ResponsePage> page = list(cursor, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    page_sizes.push_back(page->responses.size());
    for (const v1::Response& r : page->responses) {
      got.push_back(r.id());
      EXPECT_EQ(r.agency_id(), kAgency);
    }
    if (!page->next.has_value()) break;
    EXPECT_EQ(page->next->id, got.back());
    cursor = *page->next;
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 2, 1}));

  // A cursor whose own response left the index still starts right after it:
  // from the second tie, without its response, the other three ties follow.
  ASSERT_TRUE(
      redis_->Command({"ZREM", absl::StrCat(kP, "rs:", kAgency), ties[1]})
          .ok());
  absl::StatusOr<ResponsePage> rest =
      list({absl::ToUnixMillis(at), ties[1]}, 3);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->responses.size(), 3u);
  EXPECT_EQ(rest->responses[0].id(), ties[2]);
  EXPECT_EQ(rest->responses[2].id(), ties[4]);
  ASSERT_TRUE(rest->next.has_value());
  EXPECT_EQ(rest->next->id, ties[4]);

  // Page sizes are bounded.
  EXPECT_EQ(list({}, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list({}, kMaxResponsePage + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(list({}, kMaxResponsePage).ok());
}

}  // namespace
}  // namespace prima::satisfaction
