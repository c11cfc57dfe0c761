#include "services/common/clock.h"

#include "gtest/gtest.h"

namespace prima {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1'800'000'000));
  clock.Advance(absl::Minutes(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1'800'000'300));
  clock.Set(absl::FromUnixSeconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(5));
}

}  // namespace
}  // namespace prima
