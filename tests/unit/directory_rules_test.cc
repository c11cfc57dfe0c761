// The directory's validation rules: NIP, time zones, opening hours, ticket
// prefixes, text bounds and the ApplyDirectory request.
#include "services/catalog/directory_rules.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace prima::catalog {
namespace {

using ::prima::catalog::v1::ApplyDirectoryRequest;
using ::prima::catalog::v1::CompletionTime;
using ::prima::catalog::v1::Counter;
using ::prima::catalog::v1::Office;
using ::prima::catalog::v1::Officer;
using ::prima::catalog::v1::OpeningInterval;
using ::prima::catalog::v1::PublicService;

MATCHER_P(InvalidAt, prefix, "") {
  return arg.code() == absl::StatusCode::kInvalidArgument &&
         absl::StartsWith(arg.message(), prefix);
}

Office ValidOffice() {
  Office office;
  office.set_id("jaksel");
  office.set_agency_id("dukcapil");
  office.set_name("Kantor Dukcapil Jakarta Selatan");
  office.set_time_zone("Asia/Jakarta");
  for (auto day : {v1::WEEKDAY_MONDAY, v1::WEEKDAY_FRIDAY}) {
    OpeningInterval* morning = office.add_opening_hours();
    morning->set_weekday(day);
    morning->set_open_minute(480);
    morning->set_close_minute(720);
    OpeningInterval* afternoon = office.add_opening_hours();
    afternoon->set_weekday(day);
    afternoon->set_open_minute(780);
    afternoon->set_close_minute(960);
  }
  auto* holiday = office.add_holidays();
  holiday->set_year(2026);
  holiday->set_month(8);
  holiday->set_day(17);
  return office;
}

PublicService ValidService() {
  PublicService service;
  service.set_id("ktp-el");
  service.set_agency_id("dukcapil");
  service.set_name("Perekaman KTP-el");
  service.set_ticket_prefix("A");
  service.set_target_waiting_minutes(30);
  service.mutable_standard()->add_requirements("Fotokopi KK");
  service.mutable_standard()->add_procedure_steps("Ambil nomor antrean");
  service.mutable_standard()->mutable_completion_time()->set_value(1);
  service.mutable_standard()->mutable_completion_time()->set_unit(
      CompletionTime::UNIT_DAYS);
  return service;
}

TEST(NipTest, AcceptsPlausibleNips) {
  EXPECT_TRUE(ValidateNip("nip", "198503302010011005").ok());
  EXPECT_TRUE(ValidateNip("nip", "199912312022122001").ok());
  EXPECT_TRUE(ValidateNip("nip", "196002291985031002").ok());  // leap day
}

TEST(NipTest, RejectsBadNips) {
  EXPECT_THAT(ValidateNip("officer.nip", "19850330201001100"),
              InvalidAt("officer.nip: must be exactly 18 digits"));
  EXPECT_THAT(ValidateNip("nip", "19850330201001100x"),
              InvalidAt("nip: must be exactly 18 digits"));
  // Birth date: month 13, 30 February, too old.
  EXPECT_THAT(ValidateNip("nip", "198513302010011005"),
              InvalidAt("nip: digits 1-8"));
  EXPECT_THAT(ValidateNip("nip", "198502302010011005"),
              InvalidAt("nip: digits 1-8"));
  EXPECT_THAT(ValidateNip("nip", "193001012010011005"),
              InvalidAt("nip: digits 1-8"));
  EXPECT_THAT(ValidateNip("nip", "196102291985031002"),
              InvalidAt("nip: digits 1-8"));  // 1961 is no leap year
  // Appointment: month 00, month 13, before the age of 17.
  EXPECT_THAT(ValidateNip("nip", "198503302010001005"),
              InvalidAt("nip: digits 9-14"));
  EXPECT_THAT(ValidateNip("nip", "198503302010131005"),
              InvalidAt("nip: digits 9-14"));
  EXPECT_THAT(ValidateNip("nip", "198503302000011005"),
              InvalidAt("nip: digits 9-14"));
  // Gender digit and serial.
  EXPECT_THAT(ValidateNip("nip", "198503302010013005"),
              InvalidAt("nip: digit 15 (gender) must be 1 or 2"));
  EXPECT_THAT(ValidateNip("nip", "198503302010011000"),
              InvalidAt("nip: digits 16-18"));
}

TEST(TimeZoneTest, OnlyIndonesianZones) {
  EXPECT_TRUE(ValidateTimeZone("tz", "Asia/Jakarta").ok());
  EXPECT_TRUE(ValidateTimeZone("tz", "Asia/Makassar").ok());
  EXPECT_TRUE(ValidateTimeZone("tz", "Asia/Jayapura").ok());
  EXPECT_THAT(ValidateTimeZone("office.time_zone", "Asia/Singapore"),
              InvalidAt("office.time_zone: must be one of"));
  EXPECT_THAT(ValidateTimeZone("tz", ""), InvalidAt("tz:"));
  EXPECT_THAT(ValidateTimeZone("tz", "asia/jakarta"), InvalidAt("tz:"));
}

TEST(TicketPrefixTest, OneUpperCaseLetter) {
  EXPECT_TRUE(ValidateTicketPrefix("p", "A").ok());
  EXPECT_TRUE(ValidateTicketPrefix("p", "Z").ok());
  EXPECT_THAT(ValidateTicketPrefix("p", "a"), InvalidAt("p:"));
  EXPECT_THAT(ValidateTicketPrefix("p", "AB"), InvalidAt("p:"));
  EXPECT_THAT(ValidateTicketPrefix("p", ""), InvalidAt("p:"));
  EXPECT_THAT(ValidateTicketPrefix("p", "1"), InvalidAt("p:"));
}

TEST(OpeningHoursTest, ValidWeekIsAccepted) {
  EXPECT_TRUE(ValidateOffice("office", ValidOffice()).ok());
}

TEST(OpeningHoursTest, CloseMustFollowOpenWithinTheDay) {
  Office office = ValidOffice();
  office.mutable_opening_hours(2)->set_close_minute(480);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.opening_hours[2].close_minute: must be after "
                        "open_minute"));
  office = ValidOffice();
  office.mutable_opening_hours(1)->set_close_minute(1441);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.opening_hours[1].close_minute:"));
  office = ValidOffice();
  office.mutable_opening_hours(0)->set_open_minute(-1);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.opening_hours[0].open_minute:"));
  // Open all day is fine.
  office = ValidOffice();
  office.clear_opening_hours();
  auto* all_day = office.add_opening_hours();
  all_day->set_weekday(v1::WEEKDAY_SATURDAY);
  all_day->set_open_minute(0);
  all_day->set_close_minute(1440);
  EXPECT_TRUE(ValidateOffice("office", office).ok());
}

TEST(OpeningHoursTest, OverlapAndDisorderWithinOneDayAreRejected) {
  Office office = ValidOffice();
  office.mutable_opening_hours(1)->set_open_minute(700);  // before 720
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.opening_hours[1].open_minute: overlaps or "
                        "precedes office.opening_hours[0]"));
  // Touching intervals are fine (close is exclusive).
  office = ValidOffice();
  office.mutable_opening_hours(1)->set_open_minute(720);
  EXPECT_TRUE(ValidateOffice("office", office).ok());
  // Other days do not interfere.
  office = ValidOffice();
  office.mutable_opening_hours(2)->set_open_minute(400);
  EXPECT_TRUE(ValidateOffice("office", office).ok());
}

TEST(OpeningHoursTest, WeekdayRequired) {
  Office office = ValidOffice();
  office.mutable_opening_hours(3)->set_weekday(v1::WEEKDAY_UNSPECIFIED);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.opening_hours[3].weekday:"));
}

TEST(OfficeTest, FieldsAreChecked) {
  Office office = ValidOffice();
  office.set_id("Bad Id");
  EXPECT_THAT(ValidateOffice("office", office), InvalidAt("office.id:"));
  office = ValidOffice();
  office.set_agency_id("");
  EXPECT_THAT(ValidateOffice("office", office), InvalidAt("office.agency_id:"));
  office = ValidOffice();
  office.set_name("   ");
  EXPECT_THAT(ValidateOffice("office", office), InvalidAt("office.name:"));
  office = ValidOffice();
  office.set_name(std::string(201, 'x'));
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.name: must be at most 200 characters"));
  office = ValidOffice();
  office.set_time_zone("UTC");
  EXPECT_THAT(ValidateOffice("office", office), InvalidAt("office.time_zone:"));
  office = ValidOffice();
  office.mutable_holidays(0)->set_day(32);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.holidays[0]:"));
  office = ValidOffice();
  *office.add_holidays() = office.holidays(0);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.holidays[1]: is listed twice"));
  office = ValidOffice();
  office.mutable_location()->mutable_point()->set_latitude(91);
  EXPECT_THAT(ValidateOffice("office", office),
              InvalidAt("office.location.point.latitude:"));
}

TEST(PublicServiceTest, StandardIsChecked) {
  EXPECT_TRUE(ValidatePublicService("s", ValidService()).ok());
  PublicService service = ValidService();
  service.set_ticket_prefix("ab");
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.ticket_prefix:"));
  service = ValidService();
  service.mutable_standard()->clear_completion_time();
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.standard.completion_time: is required"));
  service = ValidService();
  service.mutable_standard()->mutable_completion_time()->set_unit(
      CompletionTime::UNIT_UNSPECIFIED);
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.standard.completion_time.unit:"));
  service = ValidService();
  service.mutable_standard()->mutable_fee()->set_amount(50000);
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.standard.fee_legal_basis: is required"));
  service.mutable_standard()->set_fee_legal_basis("PP 60/2016");
  EXPECT_TRUE(ValidatePublicService("s", service).ok());
  service.mutable_standard()->mutable_fee()->set_amount(-1);
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.standard.fee.amount:"));
  service = ValidService();
  service.mutable_standard()->add_requirements("");
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.standard.requirements[1]: must not be empty"));
  service = ValidService();
  service.set_target_waiting_minutes(0);
  EXPECT_THAT(ValidatePublicService("s", service),
              InvalidAt("s.target_waiting_minutes:"));
}

TEST(CounterTest, ServicesAreChecked) {
  Counter counter;
  counter.set_id("loket-1");
  counter.set_agency_id("dukcapil");
  counter.set_office_id("jaksel");
  counter.set_name("Loket 1");
  EXPECT_THAT(ValidateCounter("counter", counter),
              InvalidAt("counter.service_ids: must list 1-50"));
  counter.add_service_ids("ktp-el");
  EXPECT_TRUE(ValidateCounter("counter", counter).ok());
  counter.add_service_ids("ktp-el");
  EXPECT_THAT(ValidateCounter("counter", counter),
              InvalidAt("counter.service_ids[1]: is listed twice"));
  counter.set_service_ids(1, "KK");
  EXPECT_THAT(ValidateCounter("counter", counter),
              InvalidAt("counter.service_ids[1]:"));
}

TEST(OfficerTest, NipAndIdsAreChecked) {
  Officer officer;
  officer.set_id("budi");
  officer.set_agency_id("dukcapil");
  officer.set_name("Budi Santoso");
  officer.set_nip("198503302010011005");
  EXPECT_TRUE(ValidateOfficer("officer", officer).ok());  // no office is fine
  officer.set_office_id("Jaksel");
  EXPECT_THAT(ValidateOfficer("officer", officer),
              InvalidAt("officer.office_id:"));
  officer.set_office_id("jaksel");
  officer.set_nip("123");
  EXPECT_THAT(ValidateOfficer("officer", officer), InvalidAt("officer.nip:"));
}

TEST(ApplyTest, PathsNameTheItemAndDuplicatesAreRejected) {
  ApplyDirectoryRequest request;
  request.set_request_id("r1");
  *request.add_offices() = ValidOffice();
  Office second = ValidOffice();
  second.set_id("jaktim");
  second.mutable_opening_hours(2)->set_close_minute(1);
  *request.add_offices() = second;
  EXPECT_THAT(ValidateApplyRequest(request),
              InvalidAt("offices[1].opening_hours[2].close_minute:"));
  request.mutable_offices(1)->mutable_opening_hours(2)->set_close_minute(700);
  EXPECT_TRUE(ValidateApplyRequest(request).ok());
  request.mutable_offices(1)->set_id("jaksel");
  EXPECT_THAT(ValidateApplyRequest(request),
              InvalidAt("offices[1].id: \"jaksel\" is already used by "
                        "offices[0]"));
}

TEST(ApplyTest, RequestIdAndSizeBound) {
  ApplyDirectoryRequest request;
  EXPECT_THAT(ValidateApplyRequest(request), InvalidAt("request_id:"));
  request.set_request_id("r1");
  for (int i = 0; i <= kMaxApplyItems; ++i) {
    auto* agency = request.add_agencies();
    agency->set_id(absl::StrCat("a", i));
  }
  EXPECT_THAT(ValidateApplyRequest(request),
              InvalidAt("request: must hold at most 5000 items"));
}

TEST(ApplyTest, SingleAgency) {
  ApplyDirectoryRequest request;
  EXPECT_EQ(SingleAgencyOf(request), "");
  *request.add_offices() = ValidOffice();
  *request.add_public_services() = ValidService();
  EXPECT_EQ(SingleAgencyOf(request), "dukcapil");
  request.add_agencies()->set_id("dukcapil");
  EXPECT_EQ(SingleAgencyOf(request), "dukcapil");
  request.add_agencies()->set_id("samsat");
  EXPECT_EQ(SingleAgencyOf(request), "");
}

}  // namespace
}  // namespace prima::catalog
