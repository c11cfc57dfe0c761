// DirectoryReader against a real redis-server: read-through fill, invalidation
// by directory.changed events written by another replica's store, whole-agency
// invalidation from ApplyDirectory, TTL expiry, and no caching before it
// follows the stream.
#include "services/common/directory_reader.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/directory_store.h"
#include "services/common/clock.h"
#include "services/common/directory_keys.h"
#include "services/common/redis_client.h"
#include "tests/testing/redis_server.h"

namespace prima {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT
using ::prima::testing::TestRedis;

// Waits for an async callback's result.
template <typename T>
class Result {
 public:
  DirectoryReader::Callback<T> Callback() {
    return [this](absl::StatusOr<T> value) {
      value_ = std::move(value);
      done_.Notify();
    };
  }
  absl::StatusOr<T> Get() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(5)));
    return value_.value_or(absl::DeadlineExceededError("no callback"));
  }

 private:
  absl::Notification done_;
  std::optional<absl::StatusOr<T>> value_;
};

class DirectoryReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = TestRedis::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    reader_client_ = StartClient();
    writer_client_ = StartClient();
    ASSERT_TRUE(reader_client_ && writer_client_);
    writer_ = std::make_unique<catalog::DirectoryStore>(*writer_client_,
                                                        RealClock::Get());
    ApplyDirectoryRequest region;
    region.set_request_id("seed");
    Agency* agency = region.add_agencies();
    agency->set_id("dukcapil");
    agency->set_name("Dukcapil");
    agency->set_region("DKI Jakarta");
    agency = region.add_agencies();
    agency->set_id("samsat");
    agency->set_name("Samsat");
    agency->set_region("Papua");
    *region.add_offices() = MakeOffice("jaksel", "dukcapil", "Jakarta Selatan");
    *region.add_offices() = MakeOffice("jpr", "samsat", "Jayapura");
    PublicService* service = region.add_public_services();
    service->set_id("ktp-el");
    service->set_agency_id("dukcapil");
    service->set_name("KTP-el");
    service->set_ticket_prefix("A");
    Counter* counter = region.add_counters();
    counter->set_id("l1");
    counter->set_agency_id("dukcapil");
    counter->set_office_id("jaksel");
    counter->set_name("Loket 1");
    counter->add_service_ids("ktp-el");
    Officer* officer = region.add_officers();
    officer->set_id("budi");
    officer->set_agency_id("dukcapil");
    officer->set_office_id("jaksel");
    officer->set_name("Budi");
    ASSERT_TRUE(Apply(region).ok());
  }

  std::unique_ptr<RedisClient> StartClient() {
    RedisClient::Options options;
    options.endpoint = redis_->endpoint();
    auto client = RedisClient::Start(options);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_TRUE((*client)->WaitUntilUsable(absl::Seconds(5)));
    return std::move(*client);
  }

  static Office MakeOffice(const std::string& id, const std::string& agency,
                           const std::string& name) {
    Office office;
    office.set_id(id);
    office.set_agency_id(agency);
    office.set_name(name);
    office.set_time_zone(agency == "samsat" ? "Asia/Jayapura" : "Asia/Jakarta");
    return office;
  }

  catalog::WriteContext Context(const std::string& rpc) {
    catalog::WriteContext context;
    context.rpc = rpc;
    context.request_id = absl::StrCat("r-", ++requests_);
    context.caller.subject = "admin";
    context.caller.roles = Roles({Role::kRegionAdmin});
    return context;
  }

  absl::StatusOr<ApplyDirectoryResponse> Apply(
      const ApplyDirectoryRequest& request) {
    Result<ApplyDirectoryResponse> result;
    writer_->Apply(request, Context("ApplyDirectory"), true, result.Callback());
    return result.Get();
  }

  absl::Status UpdateOffice(const Office& office) {
    Result<Office> result;
    writer_->Update(office, Context("UpdateOffice"), result.Callback());
    return result.Get().status();
  }

  std::unique_ptr<DirectoryReader> NewReader(
      const Clock& clock = RealClock::Get()) {
    DirectoryReader::Options options;
    options.block = absl::Milliseconds(100);
    options.ttl = absl::Seconds(60);
    return std::make_unique<DirectoryReader>(
        *reader_client_, redis_->endpoint(), clock, options);
  }

  static absl::StatusOr<Office> GetOffice(DirectoryReader& reader,
                                          const std::string& id) {
    Result<Office> result;
    reader.GetOffice(id, result.Callback());
    return result.Get();
  }

  // Polls until the reader answers `name` for office `id` (events are
  // applied asynchronously).
  static bool EventuallyNamed(DirectoryReader& reader, const std::string& id,
                              const std::string& name) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      absl::StatusOr<Office> office = GetOffice(reader, id);
      if (office.ok() && office->name() == name) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<TestRedis> redis_;
  std::unique_ptr<RedisClient> reader_client_;
  std::unique_ptr<RedisClient> writer_client_;
  std::unique_ptr<catalog::DirectoryStore> writer_;
  int requests_ = 0;
};

TEST_F(DirectoryReaderTest, FillsOnMissAndAnswersFromMemory) {
  auto reader = NewReader();
  reader->Start();
  ASSERT_TRUE(reader->WaitUntilFollowing(absl::Seconds(5)));

  absl::StatusOr<Office> office = GetOffice(*reader, "jaksel");
  ASSERT_TRUE(office.ok()) << office.status();
  EXPECT_EQ(office->name(), "Jakarta Selatan");
  EXPECT_EQ(reader->stats().misses, 1u);
  office = GetOffice(*reader, "jaksel");
  ASSERT_TRUE(office.ok());
  EXPECT_EQ(reader->stats().hits, 1u);

  Result<PublicService> service;
  reader->GetPublicService("ktp-el", service.Callback());
  EXPECT_EQ(service.Get()->ticket_prefix(), "A");
  Result<Counter> counter;
  reader->GetCounter("l1", counter.Callback());
  EXPECT_EQ(counter.Get()->office_id(), "jaksel");
  Result<Officer> officer;
  reader->GetOfficer("budi", officer.Callback());
  EXPECT_EQ(officer.Get()->name(), "Budi");
  Result<Agency> agency;
  reader->GetAgency("samsat", agency.Callback());
  EXPECT_EQ(agency.Get()->region(), "Papua");
  Result<std::vector<Counter>> counters;
  reader->ListOfficeCounters("jaksel", counters.Callback());
  absl::StatusOr<std::vector<Counter>> list = counters.Get();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id(), "l1");

  EXPECT_EQ(GetOffice(*reader, "ghost").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(GetOffice(*reader, "no:pe").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DirectoryReaderTest, AnotherWritersEventDropsTheEntry) {
  auto reader = NewReader();
  reader->Start();
  ASSERT_TRUE(reader->WaitUntilFollowing(absl::Seconds(5)));
  ASSERT_EQ(GetOffice(*reader, "jaksel")->name(), "Jakarta Selatan");
  ASSERT_EQ(GetOffice(*reader, "jpr")->name(), "Jayapura");

  // Another replica's store changes the office (through its own client).
  ASSERT_TRUE(
      UpdateOffice(MakeOffice("jaksel", "dukcapil", "Jaksel Baru")).ok());
  EXPECT_TRUE(EventuallyNamed(*reader, "jaksel", "Jaksel Baru"));
  EXPECT_GE(reader->stats().events, 1u);
  // Other entries stay cached.
  const uint64_t hits = reader->stats().hits;
  ASSERT_TRUE(GetOffice(*reader, "jpr").ok());
  EXPECT_EQ(reader->stats().hits, hits + 1);
}

TEST_F(DirectoryReaderTest, WholeAgencyEventsDropTheAgencyAndCounterLists) {
  auto reader = NewReader();
  reader->Start();
  ASSERT_TRUE(reader->WaitUntilFollowing(absl::Seconds(5)));
  ASSERT_TRUE(GetOffice(*reader, "jaksel").ok());
  Result<std::vector<Counter>> before;
  reader->ListOfficeCounters("jaksel", before.Callback());
  ASSERT_EQ(before.Get()->size(), 1u);

  ApplyDirectoryRequest change;
  change.set_request_id("change");
  *change.add_offices() = MakeOffice("jaksel", "dukcapil", "Jaksel Apply");
  Counter* counter = change.add_counters();
  counter->set_id("l2");
  counter->set_agency_id("dukcapil");
  counter->set_office_id("jaksel");
  counter->set_name("Loket 2");
  counter->set_priority(true);
  counter->add_service_ids("ktp-el");
  ASSERT_TRUE(Apply(change).ok());

  EXPECT_TRUE(EventuallyNamed(*reader, "jaksel", "Jaksel Apply"));
  Result<std::vector<Counter>> after;
  reader->ListOfficeCounters("jaksel", after.Callback());
  absl::StatusOr<std::vector<Counter>> counters = after.Get();
  ASSERT_TRUE(counters.ok());
  ASSERT_EQ(counters->size(), 2u);
  EXPECT_TRUE((*counters)[1].priority());
}

TEST_F(DirectoryReaderTest, EntriesExpireAfterTheTtl) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  auto reader = NewReader(clock);
  reader->Start();
  ASSERT_TRUE(reader->WaitUntilFollowing(absl::Seconds(5)));
  ASSERT_EQ(GetOffice(*reader, "jaksel")->name(), "Jakarta Selatan");

  // A change that bypasses the events (as if one were missed).
  const std::string bytes =
      MakeOffice("jaksel", "dukcapil", "Silently Changed").SerializeAsString();
  ASSERT_TRUE(
      redis_
          ->Command({"HSET",
                     directory::ResourceKey(directory::Kind::kOffice, "jaksel"),
                     directory::kProtoField, bytes})
          .ok());
  clock.Advance(absl::Seconds(59));
  EXPECT_EQ(GetOffice(*reader, "jaksel")->name(), "Jakarta Selatan");
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(GetOffice(*reader, "jaksel")->name(), "Silently Changed");
}

TEST_F(DirectoryReaderTest, NothingIsCachedUntilFollowing) {
  auto reader = NewReader();  // not started
  ASSERT_TRUE(GetOffice(*reader, "jaksel").ok());
  ASSERT_TRUE(GetOffice(*reader, "jaksel").ok());
  EXPECT_EQ(reader->stats().hits, 0u);
  EXPECT_EQ(reader->stats().misses, 2u);
}

TEST_F(DirectoryReaderTest, TwoReadersBothSeeEveryEvent) {
  auto first = NewReader();
  auto second = NewReader();
  first->Start();
  second->Start();
  ASSERT_TRUE(first->WaitUntilFollowing(absl::Seconds(5)));
  ASSERT_TRUE(second->WaitUntilFollowing(absl::Seconds(5)));
  ASSERT_TRUE(GetOffice(*first, "jpr").ok());
  ASSERT_TRUE(GetOffice(*second, "jpr").ok());
  ASSERT_TRUE(UpdateOffice(MakeOffice("jpr", "samsat", "Jayapura Kota")).ok());
  EXPECT_TRUE(EventuallyNamed(*first, "jpr", "Jayapura Kota"));
  EXPECT_TRUE(EventuallyNamed(*second, "jpr", "Jayapura Kota"));
}

}  // namespace
}  // namespace prima
