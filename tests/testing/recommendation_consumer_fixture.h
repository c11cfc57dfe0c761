#pragma once

// What the tests of the catalog's recommendation consumers share
// (complaint_recommendation_test, satisfaction_recommendation_test): a real
// redis-server with the real TrainingStore and DirectoryStore, events appended
// the way the producers' scripts append them (prima_emit's fields), consumed
// with EventConsumer::RunOnce and the consumer's real handler, and the
// recommendations read back.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/directory_store.h"
#include "services/catalog/training_store.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"
#include "tests/testing/service_env.h"

namespace prima::testing {

// Creates the national course `id` carrying `competency` through the real
// store as a region admin, and publishes it unless `publish` is false.
void AddTestCourse(catalog::TrainingStore& store, const std::string& id,
                   const std::string& competency, bool publish = true);

class RecommendationConsumerTest : public ::testing::Test {
 protected:
  // e.g. catalog::MakeComplaintHandler.
  using HandlerFactory =
      std::function<EventHandler(RedisClient& redis, const Clock& clock)>;

  // `options` are the consumer's (their stream is where events are appended);
  // `make_handler` makes its real handler.
  RecommendationConsumerTest(ConsumerOptions options,
                             HandlerFactory make_handler);

  // Starts Redis and the stores. Subclasses that override it call it first and
  // return on HasFatalFailure().
  void SetUp() override;

  struct SeedOfficer {
    std::string id;
    std::string office_id;
    bool front_line = false;
  };
  // Applies `agency` with `offices` (in Asia/Jakarta) and `officers` to the
  // directory as a region admin.
  void SeedDirectory(const std::string& agency,
                     const std::vector<std::string>& offices,
                     const std::vector<SeedOfficer>& officers);

  // A national course with the given competency, published unless `publish`
  // is false.
  void AddCourse(const std::string& id, const std::string& competency,
                 bool publish = true);

  // Appends the envelope to the consumer's stream with the fields prima_emit
  // writes.
  void Append(const prima::events::v1::EventEnvelope& envelope);

  // The consumer's real handler.
  EventHandler Handler();
  // A consumer of the group with `handler` (by default the real one) that
  // reclaims idle entries at once.
  std::unique_ptr<EventConsumer> Consumer(EventHandler handler);
  std::unique_ptr<EventConsumer> Consumer() { return Consumer(Handler()); }

  // Appends the envelopes and consumes them with one RunOnce, expecting every
  // one handled.
  void Deliver(const std::vector<prima::events::v1::EventEnvelope>& envelopes);

  // Consumes the appended entries with the real handler, then fails each, as a
  // replica killed between its work and the ack would: they stay pending.
  void HandleWithoutAck();
  // A restarted consumer reads its pending entries again; how many it handled.
  uint64_t RedeliverPending();

  // The recommendations of an officer, or of an office when `officer` is
  // empty; newest first.
  std::vector<prima::catalog::v1::Recommendation> Recommendations(
      const std::string& officer, const std::string& office = "");

  void Close(const std::string& id,
             prima::catalog::v1::RecommendationStatus to);

  // training.recommendation_opened events on the catalog's stream.
  int OpenedEvents();

  // Entries of the consumer's stream delivered to the group but not acked.
  int64_t Pending();

  const Clock& clock_ = RealClock::Get();
  std::unique_ptr<TestServiceEnv> env_;
  std::unique_ptr<catalog::TrainingStore> store_;
  std::unique_ptr<catalog::DirectoryStore> directory_;

 private:
  catalog::TrainingActor Admin();

  const ConsumerOptions options_;
  const HandlerFactory make_handler_;
  int requests_ = 0;
};

}  // namespace prima::testing
