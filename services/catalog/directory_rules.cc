#include "services/catalog/directory_rules.h"

#include <array>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"

namespace prima::catalog {
namespace {

using ::prima::catalog::v1::Agency;
using ::prima::catalog::v1::ApplyDirectoryRequest;
using ::prima::catalog::v1::CompletionTime;
using ::prima::catalog::v1::Counter;
using ::prima::catalog::v1::Office;
using ::prima::catalog::v1::Officer;
using ::prima::catalog::v1::OpeningInterval;
using ::prima::catalog::v1::PublicService;
using ::prima::catalog::v1::Weekday;

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

std::string Path(absl::string_view path, absl::string_view field) {
  return absl::StrCat(path, ".", field);
}

std::string Index(absl::string_view path, int i) {
  return absl::StrCat(path, "[", i, "]");
}

// Required, non-blank text of at most max_chars.
absl::Status RequiredText(absl::string_view field, absl::string_view value,
                          int max_chars) {
  if (absl::Status s = RequireNonEmpty(field, value); !s.ok()) return s;
  return ValidateText(field, value, max_chars);
}

// A list of non-blank texts.
absl::Status TextList(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& list, int max_items,
    int max_chars) {
  if (list.size() > max_items) {
    return Invalid(field, absl::StrCat("must have at most ", max_items,
                                       " items; got ", list.size()));
  }
  for (int i = 0; i < list.size(); ++i) {
    if (absl::Status s = RequiredText(Index(field, i), list[i], max_chars);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Digits(absl::string_view s) {
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

bool IsRealDate(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const absl::CivilDay civil(year, month, day);
  return civil.year() == year && civil.month() == month && civil.day() == day;
}

}  // namespace

absl::Status ValidateTimeZone(absl::string_view field, absl::string_view zone) {
  if (zone == "Asia/Jakarta" || zone == "Asia/Makassar" ||
      zone == "Asia/Jayapura") {
    return absl::OkStatus();
  }
  return Invalid(field,
                 "must be one of \"Asia/Jakarta\" (WIB), \"Asia/Makassar\" "
                 "(WITA) or \"Asia/Jayapura\" (WIT)");
}

absl::Status ValidateNip(absl::string_view field, absl::string_view nip) {
  if (nip.size() != 18 || !AllDigits(nip)) {
    return Invalid(
        field,
        absl::StrCat("must be exactly 18 digits; got ", nip.size(),
                     " characters", AllDigits(nip) ? "" : " (not all digits)"));
  }
  const int birth_year = Digits(nip.substr(0, 4));
  const int birth_month = Digits(nip.substr(4, 2));
  const int birth_day = Digits(nip.substr(6, 2));
  if (birth_year < 1940 || !IsRealDate(birth_year, birth_month, birth_day)) {
    return Invalid(field,
                   absl::StrCat("digits 1-8 must be a birth date YYYYMMDD from "
                                "1940 on; got ",
                                nip.substr(0, 8)));
  }
  const int appointed_year = Digits(nip.substr(8, 4));
  const int appointed_month = Digits(nip.substr(12, 2));
  if (appointed_month < 1 || appointed_month > 12 ||
      appointed_year < birth_year + 17) {
    return Invalid(field,
                   absl::StrCat("digits 9-14 must be the appointment month "
                                "YYYYMM, at least 17 years after the birth "
                                "year; got ",
                                nip.substr(8, 6)));
  }
  if (nip[14] != '1' && nip[14] != '2') {
    return Invalid(field, absl::StrCat("digit 15 (gender) must be 1 or 2; got ",
                                       nip.substr(14, 1)));
  }
  if (nip.substr(15, 3) == "000") {
    return Invalid(field, "digits 16-18 (serial) must not be 000");
  }
  return absl::OkStatus();
}

absl::Status ValidateTicketPrefix(absl::string_view field,
                                  absl::string_view prefix) {
  if (prefix.size() != 1 || prefix[0] < 'A' || prefix[0] > 'Z') {
    return Invalid(field, "must be one upper-case letter A-Z");
  }
  return absl::OkStatus();
}

absl::Status ValidateOpeningHours(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<OpeningInterval>& hours) {
  if (hours.size() > kMaxListItems) {
    return Invalid(field, absl::StrCat("must have at most ", kMaxListItems,
                                       " intervals; got ", hours.size()));
  }
  // The close minute of the previous interval of each weekday, and its index.
  std::array<int, 8> last_close;
  std::array<int, 8> last_index;
  last_close.fill(-1);
  last_index.fill(-1);
  for (int i = 0; i < hours.size(); ++i) {
    const OpeningInterval& interval = hours[i];
    const std::string path = Index(field, i);
    const int day = static_cast<int>(interval.weekday());
    if (day < 1 || day > 7) {
      return Invalid(Path(path, "weekday"),
                     "must be set (WEEKDAY_MONDAY to WEEKDAY_SUNDAY)");
    }
    if (interval.open_minute() < 0 || interval.open_minute() > 1439) {
      return Invalid(Path(path, "open_minute"),
                     absl::StrCat("must be between 0 and 1439 (minutes after "
                                  "local midnight); got ",
                                  interval.open_minute()));
    }
    if (interval.close_minute() <= interval.open_minute() ||
        interval.close_minute() > 1440) {
      return Invalid(
          Path(path, "close_minute"),
          absl::StrCat("must be after open_minute (", interval.open_minute(),
                       ") and at most 1440; got ", interval.close_minute()));
    }
    if (interval.open_minute() < last_close[day]) {
      return Invalid(
          Path(path, "open_minute"),
          absl::StrCat("overlaps or precedes ", Index(field, last_index[day]),
                       " of the same weekday (which closes at minute ",
                       last_close[day],
                       "); list each day's intervals in time order without "
                       "overlap"));
    }
    last_close[day] = interval.close_minute();
    last_index[day] = i;
  }
  return absl::OkStatus();
}

absl::Status ValidateLocalDate(absl::string_view field,
                               const prima::common::v1::LocalDate& date) {
  if (date.year() < 2000 || date.year() > 2100 ||
      !IsRealDate(date.year(), date.month(), date.day())) {
    return Invalid(
        field, absl::StrCat("must be a real date in 2000-2100; got ",
                            date.year(), "-", date.month(), "-", date.day()));
  }
  return absl::OkStatus();
}

absl::Status ValidateAgency(absl::string_view path, const Agency& agency) {
  RETURN_IF_ERROR(ValidateId(Path(path, "id"), agency.id()));
  RETURN_IF_ERROR(
      RequiredText(Path(path, "name"), agency.name(), kMaxNameChars));
  RETURN_IF_ERROR(
      RequiredText(Path(path, "region"), agency.region(), kMaxRegionChars));
  RETURN_IF_ERROR(ValidateText(Path(path, "contact.phone"),
                               agency.contact().phone(), kMaxContactChars));
  RETURN_IF_ERROR(ValidateText(Path(path, "contact.email"),
                               agency.contact().email(), kMaxContactChars));
  RETURN_IF_ERROR(ValidateText(Path(path, "contact.website"),
                               agency.contact().website(), kMaxContactChars));
  return absl::OkStatus();
}

absl::Status ValidateOffice(absl::string_view path, const Office& office) {
  RETURN_IF_ERROR(ValidateId(Path(path, "id"), office.id()));
  RETURN_IF_ERROR(ValidateId(Path(path, "agency_id"), office.agency_id()));
  RETURN_IF_ERROR(
      RequiredText(Path(path, "name"), office.name(), kMaxNameChars));
  RETURN_IF_ERROR(ValidateText(Path(path, "location.address"),
                               office.location().address(), kMaxAddressChars));
  if (office.location().has_point()) {
    const auto& point = office.location().point();
    if (!(point.latitude() >= -90 && point.latitude() <= 90)) {
      return Invalid(Path(path, "location.point.latitude"),
                     "must be between -90 and 90 degrees");
    }
    if (!(point.longitude() >= -180 && point.longitude() <= 180)) {
      return Invalid(Path(path, "location.point.longitude"),
                     "must be between -180 and 180 degrees");
    }
  }
  RETURN_IF_ERROR(
      ValidateTimeZone(Path(path, "time_zone"), office.time_zone()));
  RETURN_IF_ERROR(ValidateOpeningHours(Path(path, "opening_hours"),
                                       office.opening_hours()));
  if (office.holidays_size() > kMaxHolidays) {
    return Invalid(Path(path, "holidays"),
                   absl::StrCat("must have at most ", kMaxHolidays,
                                " dates; got ", office.holidays_size()));
  }
  absl::flat_hash_set<int> seen;
  for (int i = 0; i < office.holidays_size(); ++i) {
    const auto& date = office.holidays(i);
    const std::string field = Index(Path(path, "holidays"), i);
    RETURN_IF_ERROR(ValidateLocalDate(field, date));
    if (!seen.insert(date.year() * 10000 + date.month() * 100 + date.day())
             .second) {
      return Invalid(field, "is listed twice");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePublicService(absl::string_view path,
                                   const PublicService& service) {
  RETURN_IF_ERROR(ValidateId(Path(path, "id"), service.id()));
  RETURN_IF_ERROR(ValidateId(Path(path, "agency_id"), service.agency_id()));
  RETURN_IF_ERROR(
      RequiredText(Path(path, "name"), service.name(), kMaxNameChars));
  RETURN_IF_ERROR(ValidateTicketPrefix(Path(path, "ticket_prefix"),
                                       service.ticket_prefix()));
  RETURN_IF_ERROR(ValidateRange(Path(path, "target_waiting_minutes"),
                                service.target_waiting_minutes(), 1, 1440));
  RETURN_IF_ERROR(ValidateText(Path(path, "description"), service.description(),
                               kMaxLongTextChars));
  const std::string standard = Path(path, "standard");
  const auto& s = service.standard();
  RETURN_IF_ERROR(TextList(Path(standard, "requirements"), s.requirements(),
                           kMaxListItems, kMaxStandardTextChars));
  RETURN_IF_ERROR(TextList(Path(standard, "procedure_steps"),
                           s.procedure_steps(), kMaxListItems,
                           kMaxStandardTextChars));
  if (!s.has_completion_time()) {
    return Invalid(Path(standard, "completion_time"), "is required");
  }
  const std::string completion = Path(standard, "completion_time");
  RETURN_IF_ERROR(ValidateRange(Path(completion, "value"),
                                s.completion_time().value(), 1, 10000));
  if (s.completion_time().unit() == CompletionTime::UNIT_UNSPECIFIED ||
      !CompletionTime::Unit_IsValid(s.completion_time().unit())) {
    return Invalid(Path(completion, "unit"),
                   "must be UNIT_MINUTES, UNIT_HOURS, UNIT_DAYS or "
                   "UNIT_WORKING_DAYS");
  }
  RETURN_IF_ERROR(ValidateRange(Path(standard, "fee.amount"), s.fee().amount(),
                                0, kMaxFeeIdr));
  RETURN_IF_ERROR(ValidateText(Path(standard, "fee_legal_basis"),
                               s.fee_legal_basis(), kMaxStandardTextChars));
  if (s.fee().amount() > 0 &&
      !RequireNonEmpty("fee_legal_basis", s.fee_legal_basis()).ok()) {
    return Invalid(Path(standard, "fee_legal_basis"),
                   "is required when the fee is above 0");
  }
  RETURN_IF_ERROR(ValidateText(Path(standard, "legal_basis"), s.legal_basis(),
                               kMaxLongTextChars));
  RETURN_IF_ERROR(ValidateText(Path(standard, "product"), s.product(),
                               kMaxStandardTextChars));
  RETURN_IF_ERROR(ValidateText(Path(standard, "complaint_channel"),
                               s.complaint_channel(), kMaxStandardTextChars));
  return absl::OkStatus();
}

absl::Status ValidateCounter(absl::string_view path, const Counter& counter) {
  RETURN_IF_ERROR(ValidateId(Path(path, "id"), counter.id()));
  RETURN_IF_ERROR(ValidateId(Path(path, "agency_id"), counter.agency_id()));
  RETURN_IF_ERROR(ValidateId(Path(path, "office_id"), counter.office_id()));
  RETURN_IF_ERROR(
      RequiredText(Path(path, "name"), counter.name(), kMaxCounterNameChars));
  const std::string services = Path(path, "service_ids");
  if (counter.service_ids_size() < 1 ||
      counter.service_ids_size() > kMaxCounterServices) {
    return Invalid(services, absl::StrCat("must list 1-", kMaxCounterServices,
                                          " public services; got ",
                                          counter.service_ids_size()));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < counter.service_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(Index(services, i), counter.service_ids(i)));
    if (!seen.insert(counter.service_ids(i)).second) {
      return Invalid(Index(services, i), "is listed twice");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateOfficer(absl::string_view path, const Officer& officer) {
  RETURN_IF_ERROR(ValidateId(Path(path, "id"), officer.id()));
  RETURN_IF_ERROR(ValidateId(Path(path, "agency_id"), officer.agency_id()));
  RETURN_IF_ERROR(
      ValidateOptionalId(Path(path, "office_id"), officer.office_id()));
  RETURN_IF_ERROR(
      RequiredText(Path(path, "name"), officer.name(), kMaxNameChars));
  RETURN_IF_ERROR(ValidateNip(Path(path, "nip"), officer.nip()));
  RETURN_IF_ERROR(
      ValidateText(Path(path, "position"), officer.position(), kMaxNameChars));
  return absl::OkStatus();
}

namespace {

template <typename T, typename Fn>
absl::Status ValidateList(absl::string_view field,
                          const google::protobuf::RepeatedPtrField<T>& items,
                          Fn validate) {
  absl::flat_hash_map<absl::string_view, int> first;
  for (int i = 0; i < items.size(); ++i) {
    const std::string path = Index(field, i);
    RETURN_IF_ERROR(validate(path, items[i]));
    auto [it, inserted] = first.emplace(items[i].id(), i);
    if (!inserted) {
      return Invalid(Path(path, "id"),
                     absl::StrCat("\"", items[i].id(), "\" is already used by ",
                                  Index(field, it->second)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateApplyRequest(const ApplyDirectoryRequest& request) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  const int64_t total = static_cast<int64_t>(request.agencies_size()) +
                        request.offices_size() +
                        request.public_services_size() +
                        request.counters_size() + request.officers_size();
  if (total > kMaxApplyItems) {
    return Invalid("request", absl::StrCat("must hold at most ", kMaxApplyItems,
                                           " items in all; got ", total));
  }
  RETURN_IF_ERROR(ValidateList("agencies", request.agencies(), ValidateAgency));
  RETURN_IF_ERROR(ValidateList("offices", request.offices(), ValidateOffice));
  RETURN_IF_ERROR(ValidateList("public_services", request.public_services(),
                               ValidatePublicService));
  RETURN_IF_ERROR(
      ValidateList("counters", request.counters(), ValidateCounter));
  RETURN_IF_ERROR(
      ValidateList("officers", request.officers(), ValidateOfficer));
  return absl::OkStatus();
}

std::string SingleAgencyOf(const ApplyDirectoryRequest& request) {
  std::string agency;
  bool several = false;
  auto see = [&](const std::string& a) {
    if (agency.empty()) {
      agency = a;
    } else if (agency != a) {
      several = true;
    }
  };
  for (const auto& x : request.agencies()) see(x.id());
  for (const auto& x : request.offices()) see(x.agency_id());
  for (const auto& x : request.public_services()) see(x.agency_id());
  for (const auto& x : request.counters()) see(x.agency_id());
  for (const auto& x : request.officers()) see(x.agency_id());
  return several ? std::string() : agency;
}

}  // namespace prima::catalog
