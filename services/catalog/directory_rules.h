#pragma once

// The directory's domain rules: what a valid agency, office, public service,
// counter and officer is. Pure functions on the protos as plain data; every
// error is INVALID_ARGUMENT whose message starts with the field path, e.g.
// `office.opening_hours[2].close_minute: must be ...`.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/common/v1/common.pb.h"

namespace prima::catalog {

// Limits of the directory (also documented in directory.proto).
inline constexpr int kMaxNameChars = 200;
inline constexpr int kMaxCounterNameChars = 100;
inline constexpr int kMaxRegionChars = 100;
inline constexpr int kMaxContactChars = 200;
inline constexpr int kMaxAddressChars = 500;
inline constexpr int kMaxStandardTextChars = 500;
inline constexpr int kMaxLongTextChars = 1000;
inline constexpr int kMaxListItems = 50;  // requirements, steps, intervals
inline constexpr int kMaxHolidays = 366;
inline constexpr int kMaxCounterServices = 50;
inline constexpr int kMaxApplyItems = 5000;
inline constexpr int64_t kMaxFeeIdr = 1'000'000'000'000;

// The three time zones of Indonesia; anything else is rejected.
// "Asia/Jakarta" (WIB), "Asia/Makassar" (WITA), "Asia/Jayapura" (WIT).
absl::Status ValidateTimeZone(absl::string_view field, absl::string_view zone);

// NIP (Nomor Induk Pegawai): 18 digits YYYYMMDD YYYYMM G NNN. The birth date
// is a real calendar date from 1940 on, the appointment month is 1-12 and at
// least 17 years after the birth year, G (gender) is 1 or 2 and the serial is
// not 000.
absl::Status ValidateNip(absl::string_view field, absl::string_view nip);

// One upper-case letter A-Z.
absl::Status ValidateTicketPrefix(absl::string_view field,
                                  absl::string_view prefix);

// Weekday set; 0 <= open < close <= 1440; within one weekday the intervals
// come in time order without overlapping; at most kMaxListItems.
// `field` is the list's path, e.g. "office.opening_hours".
absl::Status ValidateOpeningHours(
    absl::string_view field, const google::protobuf::RepeatedPtrField<
                                 prima::catalog::v1::OpeningInterval>& hours);

// A real calendar date with a year in 2000-2100.
absl::Status ValidateLocalDate(absl::string_view field,
                               const prima::common::v1::LocalDate& date);

// Whole resources. `path` is the resource's path in the request, e.g.
// "office" or "offices[3]".
absl::Status ValidateAgency(absl::string_view path,
                            const prima::catalog::v1::Agency& agency);
absl::Status ValidateOffice(absl::string_view path,
                            const prima::catalog::v1::Office& office);
absl::Status ValidatePublicService(
    absl::string_view path, const prima::catalog::v1::PublicService& service);
absl::Status ValidateCounter(absl::string_view path,
                             const prima::catalog::v1::Counter& counter);
absl::Status ValidateOfficer(absl::string_view path,
                             const prima::catalog::v1::Officer& officer);

// Every item as above, at most kMaxApplyItems in all, ids unique per kind.
// (References between items are checked by the store, against the request
// and the stored directory together.)
absl::Status ValidateApplyRequest(
    const prima::catalog::v1::ApplyDirectoryRequest& request);

// The agency every item of the request belongs to, if they all belong to one
// (an agency item counts as belonging to itself); empty if the request is
// empty or spans several agencies.
std::string SingleAgencyOf(
    const prima::catalog::v1::ApplyDirectoryRequest& request);

}  // namespace prima::catalog
