// The satisfaction consumer's pure pieces: the recommendation reason and which
// officers of a listed office are recommended to.
#include "services/catalog/satisfaction_consumer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace prima::catalog {
namespace {

using ::prima::catalog::v1::Officer;
using ::prima::events::v1::SatisfactionElementLow;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SatisfactionReasonTest, NamesElementOfficeAndPeriod) {
  SatisfactionElementLow low;
  low.set_scope("office");
  low.set_scope_id("dukcapil-jaksel");
  low.set_office_id("dukcapil-jaksel");
  low.set_period("2026-11");
  low.set_element("U7");
  low.set_template_id("skm");
  low.add_competencies("service-attitude");
  EXPECT_EQ(SatisfactionReason(low),
            "satisfaction.element_low:U7:dukcapil-jaksel:2026-11");
}

Officer MakeOfficer(const std::string& id, const std::string& office,
                    bool front_line) {
  Officer officer;
  officer.set_id(id);
  officer.set_office_id(office);
  officer.set_front_line(front_line);
  return officer;
}

TEST(FrontLineOfficerIdsTest, KeepsFrontLineOfficersOfTheOfficeInOrder) {
  const std::vector<Officer> officers = {
      MakeOfficer("sari", "jaksel", true), MakeOfficer("andi", "jaksel", false),
      MakeOfficer("dewi", "jaktim", true), MakeOfficer("budi", "jaksel", true),
      MakeOfficer("eko", "", true)};
  EXPECT_THAT(FrontLineOfficerIds(officers, "jaksel"),
              ElementsAre("sari", "budi"));
  EXPECT_THAT(FrontLineOfficerIds(officers, "jaktim"), ElementsAre("dewi"));
  EXPECT_THAT(FrontLineOfficerIds(officers, "jakbar"), IsEmpty());
  EXPECT_THAT(FrontLineOfficerIds({}, "jaksel"), IsEmpty());
}

}  // namespace
}  // namespace prima::catalog
