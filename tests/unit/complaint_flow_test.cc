// The complaint flow, pure: who a caller is to a complaint, what filing
// writes, and what every move does to status, timeline, deadlines and events.
#include "services/complaint/complaint_flow.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"

namespace prima::complaint {
namespace {

using ::prima::complaint::v1::Complaint;
using ::prima::complaint::v1::ComplaintStatus;
using ::prima::complaint::v1::Deadline;
using ::prima::complaint::v1::DeadlineKind;
using ::prima::complaint::v1::TimelineEntry;
using ::prima::events::v1::ComplaintFiled;
using ::prima::events::v1::ComplaintOverdue;
using ::prima::events::v1::ComplaintResolved;
using ::prima::events::v1::ComplaintStatusChanged;
using ::prima::events::v1::EventEnvelope;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

MATCHER_P2(StatusIs, code, prefix, "") {
  return arg.code() == code && absl::StartsWith(arg.message(), prefix);
}

constexpr char kAgency[] = "dukcapil-dki";
constexpr char kOtherAgency[] = "disdik-papua";
constexpr char kTracking[] = "DUKCAPIL-DKI-20261120-0001";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kCitizen[] = "citizen-1";

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

absl::Time Local(const absl::TimeZone& zone, int y, int m, int d, int hh,
                 int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), zone);
}

// Western Indonesia Time (UTC+7), the handling office's zone.
absl::Time Wib(int y, int m, int d, int hh, int mm = 0) {
  return Local(Zone("Asia/Jakarta"), y, m, d, hh, mm);
}

// Eastern Indonesia Time (UTC+9), the receiving office's zone on forwarding.
absl::Time Wit(int y, int m, int d, int hh, int mm = 0) {
  return Local(Zone("Asia/Jayapura"), y, m, d, hh, mm);
}

absl::Time Utc(int y, int m, int d, int hh, int mm = 0) {
  return Local(absl::UTCTimeZone(), y, m, d, hh, mm);
}

// Filed Friday 2026-11-20 15:00 WIB.
absl::Time FiledAt() { return Wib(2026, 11, 20, 15); }

// Jakarta, Tuesday 2026-11-24 a holiday, default policy (3/5/10 days).
DeadlineContext JakartaContext() {
  DeadlineContext context;
  context.zone = Zone("Asia/Jakarta");
  context.holidays.insert(absl::CivilDay(2026, 11, 24));
  v1::DeadlinePolicy policy;
  policy.set_agency_id(kAgency);
  context.policy = WithDefaults(policy);
  return context;
}

// The receiving agency: Jayapura, Friday 2026-11-27 a holiday, 2 working days
// to follow up.
DeadlineContext JayapuraContext() {
  DeadlineContext context;
  context.zone = Zone("Asia/Jayapura");
  context.holidays.insert(absl::CivilDay(2026, 11, 27));
  v1::DeadlinePolicy policy;
  policy.set_agency_id(kOtherAgency);
  policy.set_follow_up_working_days(2);
  context.policy = WithDefaults(policy);
  return context;
}

Principal Person(std::string subject, std::string agency, RoleSet roles) {
  Principal principal;
  principal.subject = std::move(subject);
  principal.agency = std::move(agency);
  principal.roles = roles;
  principal.authenticated = true;
  return principal;
}

Principal Citizen(std::string subject = kCitizen) {
  return Person(std::move(subject), "", Roles({Role::kCitizen}));
}
Principal Officer(std::string agency = kAgency) {
  return Person("off-1", std::move(agency), Roles({Role::kOfficer}));
}
Principal Supervisor() {
  return Person("sup-1", kAgency, Roles({Role::kSupervisor}));
}
Principal AgencyAdmin() {
  return Person("adm-1", kAgency, Roles({Role::kAgencyAdmin}));
}
Principal RegionAdmin() {
  return Person("reg-1", "", Roles({Role::kRegionAdmin}));
}
Principal NoToken() { return Principal(); }

Complaint Request() {
  Complaint c;
  c.set_agency_id(kAgency);
  c.set_office_id("jkt-1");
  c.set_service_id("ktp-el");
  c.set_officer_id("off-7");
  c.set_ticket_id("t-20261120-a-017");
  c.set_classification(v1::CLASSIFICATION_PENGADUAN);
  c.set_category(v1::CATEGORY_ATTITUDINAL);
  c.set_title("Petugas tidak ramah");
  c.set_description("Petugas loket 3 membentak warga lansia saat antre.");
  c.set_channel(v1::CHANNEL_WEB);
  c.mutable_reporter_contact()->set_name("Siti");
  c.mutable_reporter_contact()->set_email("siti@example.id");
  return c;
}

Complaint AnonymousRequest() {
  Complaint c = Request();
  c.set_anonymous(true);
  c.clear_reporter_contact();
  return c;
}

FilingInput Filing(Complaint request, Principal caller,
                   absl::Time now = FiledAt()) {
  FilingInput input;
  input.request = std::move(request);
  input.caller = std::move(caller);
  input.request_id = "req-file-1";
  input.now = now;
  input.deadlines = JakartaContext();
  input.id = "01jf00000000000000000000ab";
  input.receipt_secret = kSecret;
  return input;
}

NewComplaint MustFile(const FilingInput& input) {
  absl::StatusOr<NewComplaint> filing = PrepareFiling(input);
  EXPECT_TRUE(filing.ok()) << filing.status();
  return filing.ok() ? *filing : NewComplaint();
}

// The complaint as the store would hold it after filing.
StoredComplaint Stored(const NewComplaint& filing) {
  StoredComplaint stored;
  stored.complaint = filing.complaint;
  stored.complaint.set_tracking_number(kTracking);
  *stored.complaint.add_timeline() = filing.filed_entry;
  stored.secret_sha = Sha256Hex(filing.receipt_secret);
  stored.reporter_subject = filing.reporter_subject;
  stored.version = 1;
  return stored;
}

std::vector<Deadline> DeadlinesOf(const Complaint& c, DeadlineKind kind) {
  std::vector<Deadline> found;
  for (const Deadline& deadline : c.deadlines()) {
    if (deadline.kind() == kind) found.push_back(deadline);
  }
  return found;
}

std::vector<std::string> Types(const ComplaintChange& change) {
  std::vector<std::string> types;
  for (const EventEnvelope& event : change.events) {
    types.push_back(event.type());
  }
  return types;
}

// The only event of `type` (an empty envelope, and a failure, otherwise).
EventEnvelope EventOf(const ComplaintChange& change, absl::string_view type) {
  std::vector<EventEnvelope> found;
  for (const EventEnvelope& event : change.events) {
    if (event.type() == type) found.push_back(event);
  }
  EXPECT_EQ(found.size(), 1u) << type;
  return found.empty() ? EventEnvelope() : found.front();
}

template <typename T>
T Payload(const EventEnvelope& envelope) {
  T payload;
  EXPECT_TRUE(envelope.payload().UnpackTo(&payload)) << envelope.type();
  return payload;
}

Move Make(Action action, std::string note = "") {
  Move move;
  move.action = action;
  move.note = std::move(note);
  return move;
}

Move AssignTo(std::string officer) {
  Move move = Make(Action::kAssign);
  move.officer_id = std::move(officer);
  return move;
}

Move ForwardTo(std::string agency, std::string office, std::string note) {
  Move move = Make(Action::kForward, std::move(note));
  move.to_agency_id = std::move(agency);
  move.to_office_id = std::move(office);
  return move;
}

Move RateOf(int rating) {
  Move move = Make(Action::kRate);
  move.rating = rating;
  return move;
}

// A complaint walked through its moves the way the service does it: decide on
// the stored copy, then write the decision back (timeline appended).
class Story {
 public:
  explicit Story(const FilingInput& input) : stored_(Stored(MustFile(input))) {}
  Story() : Story(Filing(Request(), Citizen())) {}

  const StoredComplaint& stored() const { return stored_; }
  StoredComplaint& mutable_stored() { return stored_; }
  const Complaint& complaint() const { return stored_.complaint; }

  MoveContext Context(const Principal& caller, absl::Time now,
                      absl::string_view secret = "") const {
    MoveContext context;
    context.caller = caller;
    context.access = AccessOf(stored_, caller, secret);
    context.request_id = "req-move";
    context.now = now;
    context.deadlines = JakartaContext();
    context.receiving = JayapuraContext();
    return context;
  }

  absl::StatusOr<ComplaintChange> Try(const Move& move, const Principal& caller,
                                      absl::Time now,
                                      absl::string_view secret = "") const {
    return Decide(stored_, move, Context(caller, now, secret));
  }

  // Decides and writes `move` with `context`; fails the test when refused.
  ComplaintChange Do(const Move& move, const MoveContext& context) {
    absl::StatusOr<ComplaintChange> change = Decide(stored_, move, context);
    EXPECT_TRUE(change.ok())
        << ActionName(move.action) << ": " << change.status();
    if (!change.ok()) return ComplaintChange();
    Apply(*change);
    return *change;
  }

  ComplaintChange Do(const Move& move, const Principal& caller, absl::Time now,
                     absl::string_view secret = "") {
    return Do(move, Context(caller, now, secret));
  }

  // Verified Mon 23 10:00, assigned 11:00, work started 12:00 WIB.
  void ToInProgress() {
    Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
    Do(AssignTo("off-2"), Supervisor(), Wib(2026, 11, 23, 11));
    Do(Make(Action::kStartWork), Officer(), Wib(2026, 11, 23, 12));
  }

  // ... and resolved Wed 2026-11-25 10:00 WIB: the response window runs until
  // Sun 2026-12-06 00:00 WIB.
  void ToResolved() {
    ToInProgress();
    Do(Make(Action::kResolve, "KTP sudah dicetak."), Officer(),
       Wib(2026, 11, 25, 10));
  }

 private:
  void Apply(const ComplaintChange& change) {
    google::protobuf::RepeatedPtrField<TimelineEntry> timeline =
        stored_.complaint.timeline();
    stored_.complaint = change.updated;
    *stored_.complaint.mutable_timeline() = std::move(timeline);
    for (const TimelineEntry& entry : change.appended) {
      *stored_.complaint.add_timeline() = entry;
    }
    ++stored_.version;
  }

  StoredComplaint stored_;
};

// ---- access ----

TEST(AccessOf, TheReceiptSecretMatchingItsHashMakesTheReporter) {
  const Story story;
  ASSERT_EQ(story.stored().secret_sha, Sha256Hex(kSecret));
  const Access access = AccessOf(story.stored(), NoToken(), kSecret);
  EXPECT_TRUE(access.reporter);
  EXPECT_EQ(access.staff, Reader::kOutsider);
  EXPECT_EQ(access.reader(), Reader::kReporter);
}

TEST(AccessOf, AWrongOrMissingSecretIsNotTheReporter) {
  const Story story;
  EXPECT_FALSE(AccessOf(story.stored(), NoToken(), "wrong").reporter);
  EXPECT_FALSE(
      AccessOf(story.stored(), NoToken(), Sha256Hex(kSecret)).reporter);
  EXPECT_FALSE(AccessOf(story.stored(), NoToken(), "").reporter);
  EXPECT_EQ(AccessOf(story.stored(), NoToken(), "wrong").reader(),
            Reader::kOutsider);
  // A complaint without a stored hash is matched by nothing.
  StoredComplaint no_hash = story.stored();
  no_hash.secret_sha.clear();
  EXPECT_FALSE(AccessOf(no_hash, NoToken(), "").reporter);
}

TEST(AccessOf, TheCitizenTokenThatFiledItMakesTheReporter) {
  const Story story;
  ASSERT_EQ(story.stored().reporter_subject, kCitizen);
  EXPECT_TRUE(AccessOf(story.stored(), Citizen(), "").reporter);
  EXPECT_FALSE(AccessOf(story.stored(), Citizen("citizen-2"), "").reporter);
}

TEST(AccessOf, StaffWithTheReportersSubjectButNoCitizenRoleIsNotTheReporter) {
  const Story story;
  const Principal impostor =
      Person(kCitizen, kOtherAgency, Roles({Role::kOfficer}));
  const Access access = AccessOf(story.stored(), impostor, "");
  EXPECT_FALSE(access.reporter);
  EXPECT_EQ(access.reader(), Reader::kOutsider);
}

TEST(AccessOf, AnAnonymousComplaintHasNoTokenReporter) {
  const Story story(Filing(AnonymousRequest(), Citizen()));
  ASSERT_EQ(story.stored().reporter_subject, "");
  EXPECT_FALSE(AccessOf(story.stored(), Citizen(), "").reporter);
  EXPECT_FALSE(AccessOf(story.stored(), Citizen(""), "").reporter);
  EXPECT_TRUE(AccessOf(story.stored(), Citizen(), kSecret).reporter);
}

TEST(AccessOf, AnOfficerOfTheHandlingAgencyIsStaff) {
  const Story story;
  const Access access = AccessOf(story.stored(), Officer(), "");
  EXPECT_EQ(access.staff, Reader::kStaff);
  EXPECT_FALSE(access.reporter);
}

TEST(AccessOf, SupervisorsAndAgencyAdminsAreManagers) {
  const Story story;
  EXPECT_EQ(AccessOf(story.stored(), Supervisor(), "").staff, Reader::kManager);
  EXPECT_EQ(AccessOf(story.stored(), AgencyAdmin(), "").staff,
            Reader::kManager);
  const Principal both =
      Person("x", kAgency, Roles({Role::kOfficer, Role::kSupervisor}));
  EXPECT_EQ(AccessOf(story.stored(), both, "").staff, Reader::kManager);
}

TEST(AccessOf, ARegionAdminIsManagerOfEveryAgency) {
  const Story story;
  EXPECT_EQ(AccessOf(story.stored(), RegionAdmin(), "").staff,
            Reader::kManager);
  const Principal elsewhere =
      Person("reg-2", kOtherAgency, Roles({Role::kRegionAdmin}));
  EXPECT_EQ(AccessOf(story.stored(), elsewhere, "").staff, Reader::kManager);
}

TEST(AccessOf, StaffOfAnotherAgencyAreOutsiders) {
  const Story story;
  for (const Principal& caller :
       {Officer(kOtherAgency),
        Person("sup-9", kOtherAgency, Roles({Role::kSupervisor})),
        Person("adm-9", kOtherAgency, Roles({Role::kAgencyAdmin})),
        Person("off-0", "", Roles({Role::kOfficer}))}) {
    EXPECT_EQ(AccessOf(story.stored(), caller, "").staff, Reader::kOutsider)
        << caller.subject;
    EXPECT_EQ(AccessOf(story.stored(), caller, "").reader(), Reader::kOutsider)
        << caller.subject;
  }
}

TEST(AccessOf, TheReaderIsStaffBeforeReporter) {
  EXPECT_EQ((Access{true, Reader::kStaff}).reader(), Reader::kStaff);
  EXPECT_EQ((Access{true, Reader::kManager}).reader(), Reader::kManager);
  EXPECT_EQ((Access{true, Reader::kOutsider}).reader(), Reader::kReporter);
  EXPECT_EQ((Access{false, Reader::kOutsider}).reader(), Reader::kOutsider);
  // An officer holding the receipt secret reads as staff.
  const Story story;
  EXPECT_EQ(AccessOf(story.stored(), Officer(), kSecret).reader(),
            Reader::kStaff);
}

// ---- filing ----

TEST(PrepareFiling, AnInvalidRequestIsRefusedNamingTheField) {
  Complaint request = Request();
  request.set_title("Ok");
  absl::StatusOr<NewComplaint> filing =
      PrepareFiling(Filing(request, Citizen()));
  EXPECT_THAT(filing.status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "complaint.title:"));

  Complaint anonymous_with_contact = Request();
  anonymous_with_contact.set_anonymous(true);
  EXPECT_EQ(
      PrepareFiling(Filing(anonymous_with_contact, Citizen())).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(PrepareFiling, SubmittedWithOneVerifyDeadlineSkippingWeekendAndHoliday) {
  const NewComplaint filing = MustFile(Filing(Request(), Citizen()));
  const Complaint& c = filing.complaint;
  EXPECT_EQ(c.status(), v1::COMPLAINT_STATUS_SUBMITTED);
  EXPECT_EQ(ToAbslTime(c.file_time()), FiledAt());
  EXPECT_EQ(ToAbslTime(c.update_time()), FiledAt());
  ASSERT_EQ(c.deadlines_size(), 1);
  EXPECT_EQ(c.deadlines(0).kind(), v1::DEADLINE_KIND_VERIFY);
  // Mon 23, (holiday Tue 24), Wed 25, Thu 26: the end of Thursday.
  EXPECT_EQ(ToAbslTime(c.deadlines(0).due_time()), Wib(2026, 11, 27, 0));
  EXPECT_FALSE(c.deadlines(0).has_met_time());
  EXPECT_FALSE(c.deadlines(0).overdue());
  EXPECT_EQ(c.timeline_size(), 0);
  EXPECT_EQ(c.tracking_number(), "");
}

TEST(PrepareFiling, TheVerifyDeadlineFollowsThePolicy) {
  FilingInput input = Filing(Request(), Citizen());
  input.deadlines.policy.set_verify_working_days(1);
  const NewComplaint filing = MustFile(input);
  ASSERT_EQ(filing.complaint.deadlines_size(), 1);
  EXPECT_EQ(ToAbslTime(filing.complaint.deadlines(0).due_time()),
            Wib(2026, 11, 24, 0));
}

TEST(PrepareFiling, CopiesTheFilingFieldsAndKeepsTheSecretOutOfTheComplaint) {
  const NewComplaint filing = MustFile(Filing(Request(), Citizen()));
  const Complaint& c = filing.complaint;
  EXPECT_EQ(c.id(), "01jf00000000000000000000ab");
  EXPECT_EQ(c.agency_id(), kAgency);
  EXPECT_EQ(c.office_id(), "jkt-1");
  EXPECT_EQ(c.service_id(), "ktp-el");
  EXPECT_EQ(c.officer_id(), "off-7");
  EXPECT_EQ(c.ticket_id(), "t-20261120-a-017");
  EXPECT_EQ(c.category(), v1::CATEGORY_ATTITUDINAL);
  EXPECT_EQ(c.title(), "Petugas tidak ramah");
  EXPECT_EQ(c.channel(), v1::CHANNEL_WEB);
  EXPECT_EQ(c.reporter_contact().email(), "siti@example.id");
  EXPECT_EQ(c.receipt_secret(), "");
  EXPECT_EQ(filing.receipt_secret, kSecret);
  EXPECT_EQ(ToAbslTime(filing.filed_entry.time()), FiledAt());
  EXPECT_EQ(filing.filed_entry.to_status(), v1::COMPLAINT_STATUS_SUBMITTED);
}

TEST(PrepareFiling, TrackingPrefixAndLocalDateOfTheAgencysDay) {
  const NewComplaint filing = MustFile(Filing(Request(), Citizen()));
  EXPECT_EQ(filing.tracking_prefix, "DUKCAPIL-DKI-20261120-");
  EXPECT_EQ(filing.local_date, "20261120");
}

TEST(PrepareFiling, TheLocalDateFollowsTheOfficeZone) {
  // 23:30 UTC on the 20th is 06:30 WIB on Saturday the 21st.
  const NewComplaint filing =
      MustFile(Filing(Request(), Citizen(), Utc(2026, 11, 20, 23, 30)));
  EXPECT_EQ(filing.tracking_prefix, "DUKCAPIL-DKI-20261121-");
  EXPECT_EQ(filing.local_date, "20261121");
  // Counted from Saturday: Mon 23, Wed 25, Thu 26.
  EXPECT_EQ(ToAbslTime(filing.complaint.deadlines(0).due_time()),
            Wib(2026, 11, 27, 0));
}

TEST(PrepareFiling, AnAnonymousComplaintKeepsNoTraceOfTheReporter) {
  const NewComplaint filing = MustFile(Filing(AnonymousRequest(), Citizen()));
  EXPECT_TRUE(filing.complaint.anonymous());
  EXPECT_EQ(filing.reporter_subject, "");
  EXPECT_EQ(filing.filed_entry.actor().subject(), "");
  EXPECT_EQ(filing.filed_event.actor().subject(), "");
  EXPECT_FALSE(filing.complaint.has_reporter_contact());
  EXPECT_THAT(filing.filed_event.SerializeAsString(), Not(HasSubstr(kCitizen)));
  EXPECT_THAT(filing.complaint.SerializeAsString(), Not(HasSubstr(kCitizen)));
  EXPECT_TRUE(Payload<ComplaintFiled>(filing.filed_event).anonymous());
}

TEST(PrepareFiling, ACitizenFilingIsReachableByTheTokenSubject) {
  const NewComplaint filing = MustFile(Filing(Request(), Citizen()));
  EXPECT_EQ(filing.reporter_subject, kCitizen);
  EXPECT_EQ(filing.filed_entry.actor().subject(), kCitizen);
  EXPECT_EQ(filing.filed_event.actor().subject(), kCitizen);
}

TEST(PrepareFiling, WithoutATokenNobodyIsTheReporterBySubject) {
  const NewComplaint filing = MustFile(Filing(Request(), NoToken()));
  EXPECT_EQ(filing.reporter_subject, "");
  EXPECT_EQ(filing.filed_entry.actor().subject(), "");
}

TEST(PrepareFiling, StaffFilingForAWalkInAreNotTheReporter) {
  Complaint request = Request();
  request.set_channel(v1::CHANNEL_OFFICE);
  const NewComplaint filing = MustFile(Filing(request, Officer()));
  EXPECT_EQ(filing.reporter_subject, "");
  EXPECT_EQ(filing.complaint.channel(), v1::CHANNEL_OFFICE);
  // The officer who wrote it down is recorded as the actor.
  EXPECT_EQ(filing.filed_entry.actor().subject(), "off-1");
}

TEST(PrepareFiling, TheFiledEventCarriesTheFilingFacts) {
  Complaint request = Request();
  request.set_confidential(true);
  const NewComplaint filing = MustFile(Filing(request, Citizen()));
  const EventEnvelope& event = filing.filed_event;
  EXPECT_EQ(event.type(), "complaint.filed");
  EXPECT_EQ(event.agency(), kAgency);
  EXPECT_EQ(event.producer(), "complaint");
  EXPECT_EQ(event.request_id(), "req-file-1");
  EXPECT_EQ(ToAbslTime(event.occurred_at()), FiledAt());
  EXPECT_FALSE(event.id().empty());
  const ComplaintFiled filed = Payload<ComplaintFiled>(event);
  EXPECT_EQ(filed.complaint_id(), "01jf00000000000000000000ab");
  EXPECT_EQ(filed.tracking_number(), "");  // the store's script adds it
  EXPECT_EQ(filed.category(), "ATTITUDINAL");
  EXPECT_EQ(filed.classification(), "PENGADUAN");
  EXPECT_EQ(filed.officer_id(), "off-7");
  EXPECT_EQ(filed.office_id(), "jkt-1");
  EXPECT_EQ(filed.service_id(), "ktp-el");
  EXPECT_FALSE(filed.anonymous());
  EXPECT_TRUE(filed.confidential());
  // Never the reporter's contact.
  EXPECT_THAT(event.SerializeAsString(), Not(HasSubstr("siti@example.id")));
}

// ---- who may move ----

TEST(Decide, OutsidersGetNotFoundNamingOnlyTheTrackingNumber) {
  Story story;
  for (const Principal& caller :
       {NoToken(), Citizen("citizen-2"), Officer(kOtherAgency)}) {
    for (const Move& move :
         {Make(Action::kVerify), Make(Action::kComment, "hi"),
          Make(Action::kAccept), RateOf(5)}) {
      absl::StatusOr<ComplaintChange> change =
          story.Try(move, caller, Wib(2026, 11, 23, 10), "wrong");
      EXPECT_EQ(change.status().code(), absl::StatusCode::kNotFound);
      EXPECT_EQ(change.status().message(),
                "complaint DUKCAPIL-DKI-20261120-0001 does not exist");
    }
  }
}

TEST(Decide, TheReporterMayNotMakeStaffMoves) {
  Story story;
  for (const Move& move : {Make(Action::kVerify), Make(Action::kReject, "spam"),
                           Make(Action::kComment, "any news?")}) {
    EXPECT_EQ(story.Try(move, Citizen(), Wib(2026, 11, 23, 10)).status().code(),
              absl::StatusCode::kPermissionDenied)
        << ActionName(move.action);
    EXPECT_EQ(story.Try(move, NoToken(), Wib(2026, 11, 23, 10), kSecret)
                  .status()
                  .code(),
              absl::StatusCode::kPermissionDenied)
        << ActionName(move.action);
  }
}

TEST(Decide, StaffMayNotAcceptReopenOrRate) {
  Story story;
  story.ToResolved();
  for (const Principal& caller : {Officer(), Supervisor(), RegionAdmin()}) {
    for (const Move& move :
         {Make(Action::kAccept), Make(Action::kReopen, "no"), RateOf(5)}) {
      EXPECT_EQ(story.Try(move, caller, Wib(2026, 11, 26, 10)).status().code(),
                absl::StatusCode::kPermissionDenied)
          << caller.subject << " " << ActionName(move.action);
    }
  }
}

TEST(Decide, IllegalTransitionsAreFailedPrecondition) {
  Story story;
  EXPECT_THAT(
      story
          .Try(Make(Action::kResolve, "done"), Officer(), Wib(2026, 11, 23, 10))
          .status(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "complaint is SUBMITTED: cannot resolve"));
  EXPECT_EQ(
      story.Try(Make(Action::kStartWork), Officer(), Wib(2026, 11, 23, 10))
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  EXPECT_EQ(story.Try(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 11))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(story.Try(Make(Action::kAccept), Citizen(), Wib(2026, 11, 23, 11))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Decide, AutoCloseIsTheSweepersAlone) {
  Story story;
  story.ToResolved();
  // Even a manager may not ask for it, after the window too.
  EXPECT_FALSE(
      story.Try(Make(Action::kAutoClose), Supervisor(), Wib(2026, 12, 7, 0))
          .ok());
  // And the sweeper does nothing else.
  MoveContext sweeper = story.Context(NoToken(), Wib(2026, 12, 7, 0));
  sweeper.system = true;
  EXPECT_FALSE(Decide(story.stored(), Make(Action::kVerify), sweeper).ok());
}

// ---- verify ----

TEST(Decide, VerifyMeetsVerifyAndOpensFollowUpInTheOfficeZone) {
  Story story;
  const absl::Time now = Wib(2026, 11, 23, 10);
  const ComplaintChange change =
      story.Do(Make(Action::kVerify, "lengkap"), Officer(), now);
  const Complaint& c = change.updated;
  EXPECT_EQ(c.status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(ToAbslTime(c.update_time()), now);
  const std::vector<Deadline> verify = DeadlinesOf(c, v1::DEADLINE_KIND_VERIFY);
  ASSERT_EQ(verify.size(), 1u);
  EXPECT_EQ(ToAbslTime(verify[0].met_time()), now);
  EXPECT_FALSE(verify[0].overdue());
  const std::vector<Deadline> follow_up =
      DeadlinesOf(c, v1::DEADLINE_KIND_FOLLOW_UP);
  ASSERT_EQ(follow_up.size(), 1u);
  // (holiday Tue 24) Wed 25, Thu 26, Fri 27, Mon 30, Tue 1: end of Tuesday.
  EXPECT_EQ(ToAbslTime(follow_up[0].due_time()), Wib(2026, 12, 2, 0));
  EXPECT_FALSE(follow_up[0].has_met_time());
  EXPECT_THAT(Types(change), ElementsAre("complaint.verified"));
}

TEST(Decide, TheVerifiedEventNamesTheMove) {
  Story story;
  const ComplaintChange change =
      story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  const EventEnvelope event = EventOf(change, "complaint.verified");
  EXPECT_EQ(event.agency(), kAgency);
  EXPECT_EQ(event.producer(), "complaint");
  EXPECT_EQ(event.request_id(), "req-move");
  EXPECT_EQ(event.actor().subject(), "off-1");
  EXPECT_EQ(ToAbslTime(event.occurred_at()), Wib(2026, 11, 23, 10));
  const auto changed = Payload<ComplaintStatusChanged>(event);
  EXPECT_EQ(changed.complaint_id(), story.complaint().id());
  EXPECT_EQ(changed.tracking_number(), kTracking);
  EXPECT_EQ(changed.from_status(), "SUBMITTED");
  EXPECT_EQ(changed.to_status(), "VERIFIED");
  EXPECT_EQ(changed.to_agency(), "");
}

TEST(Decide, VerifyAfterTheDueTimeIsOverdueAndReportedOnce) {
  Story story;
  const absl::Time now = Wib(2026, 11, 27, 9);
  const ComplaintChange change =
      story.Do(Make(Action::kVerify), Officer(), now);
  const std::vector<Deadline> verify =
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_VERIFY);
  ASSERT_EQ(verify.size(), 1u);
  EXPECT_TRUE(verify[0].overdue());
  EXPECT_EQ(ToAbslTime(verify[0].met_time()), now);
  EXPECT_THAT(Types(change), ::testing::UnorderedElementsAre(
                                 "complaint.overdue", "complaint.verified"));
  const EventEnvelope overdue = EventOf(change, "complaint.overdue");
  EXPECT_EQ(overdue.agency(), kAgency);
  const auto payload = Payload<ComplaintOverdue>(overdue);
  EXPECT_EQ(payload.deadline(), "VERIFY");
  EXPECT_EQ(ToAbslTime(payload.due_at()), Wib(2026, 11, 27, 0));
  EXPECT_EQ(payload.complaint_id(), story.complaint().id());
  EXPECT_EQ(payload.office_id(), "jkt-1");
  // The follow-up starts from the late verification.
  const std::vector<Deadline> follow_up =
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_FOLLOW_UP);
  ASSERT_EQ(follow_up.size(), 1u);
  EXPECT_EQ(ToAbslTime(follow_up[0].due_time()), Wib(2026, 12, 5, 0));
}

TEST(Decide, VerifyExactlyAtTheDueTimeIsAlreadyLate) {
  Story story;
  const ComplaintChange change =
      story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 27, 0));
  EXPECT_TRUE(
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_VERIFY)[0].overdue());
  EXPECT_EQ(EventOf(change, "complaint.overdue").type(), "complaint.overdue");
  const ComplaintChange in_time =
      Story().Do(Make(Action::kVerify), Officer(),
                 Wib(2026, 11, 27, 0) - absl::Seconds(1));
  EXPECT_FALSE(
      DeadlinesOf(in_time.updated, v1::DEADLINE_KIND_VERIFY)[0].overdue());
  EXPECT_THAT(Types(in_time), ElementsAre("complaint.verified"));
}

TEST(Decide, ADeadlineTheSweeperMarkedIsNotReportedAgain) {
  Story story;
  story.mutable_stored().complaint.mutable_deadlines(0)->set_overdue(true);
  const ComplaintChange change =
      story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 30, 9));
  EXPECT_THAT(Types(change), ElementsAre("complaint.verified"));
  const std::vector<Deadline> verify =
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_VERIFY);
  EXPECT_TRUE(verify[0].overdue());
  EXPECT_EQ(ToAbslTime(verify[0].met_time()), Wib(2026, 11, 30, 9));
}

// ---- reject ----

TEST(Decide, RejectAndNotInAuthorityNeedAReason) {
  for (Action action : {Action::kReject, Action::kNotInAuthority}) {
    Story story;
    for (const char* reason : {"", "   "}) {
      EXPECT_THAT(
          story.Try(Make(action, reason), Officer(), Wib(2026, 11, 23, 10))
              .status(),
          StatusIs(absl::StatusCode::kInvalidArgument, "reason:"))
          << ActionName(action);
    }
  }
}

TEST(Decide, RejectEndsAtRejectedAndNotInAuthorityAtItsStatus) {
  const std::pair<Action, ComplaintStatus> cases[] = {
      {Action::kReject, v1::COMPLAINT_STATUS_REJECTED},
      {Action::kNotInAuthority, v1::COMPLAINT_STATUS_NOT_IN_AUTHORITY}};
  for (const auto& [action, status] : cases) {
    Story story;
    const absl::Time now = Wib(2026, 11, 23, 10);
    const ComplaintChange change =
        story.Do(Make(action, "bukan wewenang kami"), Supervisor(), now);
    EXPECT_EQ(change.updated.status(), status);
    ASSERT_EQ(change.appended.size(), 1u);
    EXPECT_EQ(change.appended[0].to_status(), status);
    EXPECT_EQ(change.appended[0].note(), "bukan wewenang kami");
    EXPECT_EQ(ToAbslTime(change.updated.deadlines(0).met_time()), now);
    EXPECT_EQ(change.updated.deadlines_size(), 1);  // nothing opened
    EXPECT_THAT(Types(change), ElementsAre("complaint.rejected"));
    EXPECT_EQ(Payload<ComplaintStatusChanged>(change.events[0]).to_status(),
              StatusName(status));
    // Final: nothing moves it any more, not even a comment.
    EXPECT_EQ(
        story.Try(Make(action, "again"), Supervisor(), now).status().code(),
        absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(story.Try(Make(Action::kComment, "hi"), Supervisor(), now)
                  .status()
                  .code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

// ---- forward ----

TEST(Decide, ForwardHandsTheComplaintToTheReceivingAgency) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  story.Do(AssignTo("off-2"), Supervisor(), Wib(2026, 11, 23, 11));
  // Assigned complaints cannot be forwarded; start again from VERIFIED.
  ASSERT_EQ(story.complaint().status(), v1::COMPLAINT_STATUS_ASSIGNED);
  EXPECT_EQ(story
                .Try(ForwardTo(kOtherAgency, "jpr-1", "disposisi"), Officer(),
                     Wib(2026, 11, 23, 12))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  Story fresh;
  fresh.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  fresh.mutable_stored().complaint.set_assigned_officer_id("off-2");
  const ComplaintChange change =
      fresh.Do(ForwardTo(kOtherAgency, "jpr-1", "disposisi"), Officer(),
               Wib(2026, 11, 23, 12));
  const Complaint& c = change.updated;
  EXPECT_EQ(c.status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(c.agency_id(), kOtherAgency);
  EXPECT_EQ(c.office_id(), "jpr-1");
  EXPECT_EQ(c.assigned_officer_id(), "");
  EXPECT_EQ(c.assigned_office_id(), "");
  EXPECT_EQ(c.tracking_number(), kTracking);

  ASSERT_EQ(change.appended.size(), 1u);
  const TimelineEntry& entry = change.appended[0];
  EXPECT_EQ(entry.from_status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(entry.to_status(), v1::COMPLAINT_STATUS_FORWARDED);
  EXPECT_EQ(entry.from_agency(), kAgency);
  EXPECT_EQ(entry.to_agency(), kOtherAgency);
  EXPECT_EQ(entry.note(), "disposisi");

  EXPECT_THAT(Types(change), ElementsAre("complaint.forwarded"));
  const EventEnvelope& event = change.events[0];
  EXPECT_EQ(event.agency(), kAgency);
  const auto changed = Payload<ComplaintStatusChanged>(event);
  EXPECT_EQ(changed.to_agency(), kOtherAgency);
  EXPECT_EQ(changed.from_status(), "VERIFIED");
  EXPECT_EQ(changed.to_status(), "FORWARDED");

  // The forwarding agency now stands outside it.
  EXPECT_EQ(AccessOf(fresh.stored(), Officer(), "").reader(),
            Reader::kOutsider);
  EXPECT_EQ(AccessOf(fresh.stored(), Officer(kOtherAgency), "").staff,
            Reader::kStaff);
}

TEST(Decide, ForwardMeetsTheFollowUpAndOpensOneWithTheReceivingPolicyAndZone) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  // Wed 25 22:30 WIB is Thu 26 00:30 WIT: counted from Thursday in Jayapura,
  // (holiday Fri 27) Mon 30, Tue 1: the end of Tuesday WIT.
  const absl::Time now = Wib(2026, 11, 25, 22, 30);
  const ComplaintChange change =
      story.Do(ForwardTo(kOtherAgency, "jpr-1", "disposisi"), Officer(), now);
  const std::vector<Deadline> follow_up =
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_FOLLOW_UP);
  ASSERT_EQ(follow_up.size(), 2u);
  EXPECT_EQ(ToAbslTime(follow_up[0].met_time()), now);
  EXPECT_FALSE(follow_up[0].overdue());
  EXPECT_FALSE(follow_up[1].has_met_time());
  EXPECT_EQ(ToAbslTime(follow_up[1].due_time()), Wit(2026, 12, 2, 0));
}

TEST(Decide, ForwardWithoutTheReceivingDeadlinesIsAnInternalError) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  MoveContext context = story.Context(Officer(), Wib(2026, 11, 23, 12));
  context.receiving.reset();
  EXPECT_EQ(Decide(story.stored(), ForwardTo(kOtherAgency, "", ""), context)
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

// ---- assign, start ----

TEST(Decide, AssignSetsTheOfficerOrTheUnit) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  const ComplaintChange to_officer =
      story.Do(AssignTo("off-2"), Supervisor(), Wib(2026, 11, 23, 11));
  EXPECT_EQ(to_officer.updated.status(), v1::COMPLAINT_STATUS_ASSIGNED);
  EXPECT_EQ(to_officer.updated.assigned_officer_id(), "off-2");
  EXPECT_EQ(to_officer.updated.assigned_office_id(), "");
  EXPECT_THAT(Types(to_officer), ElementsAre("complaint.assigned"));

  Story unit;
  unit.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  Move move = Make(Action::kAssign, "ke unit pengaduan");
  move.office_id = "jkt-2";
  const ComplaintChange to_unit =
      unit.Do(move, Supervisor(), Wib(2026, 11, 23, 11));
  EXPECT_EQ(to_unit.updated.assigned_office_id(), "jkt-2");
  EXPECT_EQ(to_unit.updated.assigned_officer_id(), "");
  EXPECT_EQ(to_unit.appended[0].note(), "ke unit pengaduan");
}

TEST(Decide, StartWorkMovesToInProgress) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  story.Do(AssignTo("off-2"), Supervisor(), Wib(2026, 11, 23, 11));
  const ComplaintChange change =
      story.Do(Make(Action::kStartWork), Officer(), Wib(2026, 11, 23, 12));
  EXPECT_EQ(change.updated.status(), v1::COMPLAINT_STATUS_IN_PROGRESS);
  EXPECT_EQ(change.updated.assigned_officer_id(), "off-2");
  EXPECT_THAT(Types(change), ElementsAre("complaint.work_started"));
  EXPECT_FALSE(change.resolution.has_value());
}

// ---- resolve ----

TEST(Decide, ResolveNeedsAResolution) {
  Story story;
  story.ToInProgress();
  EXPECT_THAT(
      story.Try(Make(Action::kResolve), Officer(), Wib(2026, 11, 25, 10))
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "resolution:"));
  EXPECT_THAT(story
                  .Try(Make(Action::kResolve, std::string(4001, 'x')),
                       Officer(), Wib(2026, 11, 25, 10))
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "resolution:"));
}

TEST(Decide, ResolveInTimeMeetsFollowUpAndOpensTheResponseWindow) {
  Story story;
  story.ToInProgress();
  const absl::Time now = Wib(2026, 11, 25, 10);
  const ComplaintChange change =
      story.Do(Make(Action::kResolve, "KTP sudah dicetak."), Officer(), now);
  const Complaint& c = change.updated;
  EXPECT_EQ(c.status(), v1::COMPLAINT_STATUS_RESOLVED);
  EXPECT_EQ(c.resolution(), "KTP sudah dicetak.");
  EXPECT_EQ(change.appended[0].note(), "KTP sudah dicetak.");
  const std::vector<Deadline> follow_up =
      DeadlinesOf(c, v1::DEADLINE_KIND_FOLLOW_UP);
  ASSERT_EQ(follow_up.size(), 1u);
  EXPECT_EQ(ToAbslTime(follow_up[0].met_time()), now);
  const std::vector<Deadline> response =
      DeadlinesOf(c, v1::DEADLINE_KIND_RESPONSE);
  ASSERT_EQ(response.size(), 1u);
  // 10 calendar days, weekends and holidays included: the end of Sat Dec 5.
  EXPECT_EQ(ToAbslTime(response[0].due_time()), Wib(2026, 12, 6, 0));
  EXPECT_FALSE(response[0].has_met_time());

  // Fri 20 15:00 to Wed 25 10:00: 4 days and 19 hours.
  const int64_t seconds = (4 * 24 + 19) * 3600;
  ASSERT_TRUE(change.resolution.has_value());
  EXPECT_EQ(change.resolution->seconds, seconds);
  EXPECT_TRUE(change.resolution->within_deadline);

  EXPECT_THAT(Types(change), ElementsAre("complaint.resolved"));
  const EventEnvelope& event = change.events[0];
  EXPECT_EQ(event.agency(), kAgency);
  const auto resolved = Payload<ComplaintResolved>(event);
  EXPECT_EQ(resolved.complaint_id(), c.id());
  EXPECT_EQ(resolved.resolution_seconds(), seconds);
  EXPECT_TRUE(resolved.within_deadline());
  EXPECT_EQ(resolved.category(), "ATTITUDINAL");
  EXPECT_EQ(resolved.officer_id(), "off-7");
  EXPECT_EQ(resolved.office_id(), "jkt-1");
  EXPECT_EQ(resolved.service_id(), "ktp-el");
}

TEST(Decide, ResolveAfterTheFollowUpIsLateAndOverdue) {
  Story story;
  story.ToInProgress();
  const absl::Time now = Wib(2026, 12, 3, 10);  // due Dec 2 00:00 WIB
  const ComplaintChange change =
      story.Do(Make(Action::kResolve, "maaf terlambat"), Officer(), now);
  ASSERT_TRUE(change.resolution.has_value());
  EXPECT_FALSE(change.resolution->within_deadline);
  EXPECT_EQ(change.resolution->seconds, absl::ToInt64Seconds(now - FiledAt()));
  EXPECT_FALSE(Payload<ComplaintResolved>(EventOf(change, "complaint.resolved"))
                   .within_deadline());
  const auto overdue =
      Payload<ComplaintOverdue>(EventOf(change, "complaint.overdue"));
  EXPECT_EQ(overdue.deadline(), "FOLLOW_UP");
  EXPECT_EQ(ToAbslTime(overdue.due_at()), Wib(2026, 12, 2, 0));
  EXPECT_TRUE(
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_FOLLOW_UP)[0].overdue());
}

TEST(Decide, ResolveLateAfterTheSweeperIsStillNotWithinTheDeadline) {
  Story story;
  story.ToInProgress();
  Complaint& c = story.mutable_stored().complaint;
  for (Deadline& deadline : *c.mutable_deadlines()) {
    if (deadline.kind() == v1::DEADLINE_KIND_FOLLOW_UP) {
      deadline.set_overdue(true);
    }
  }
  const ComplaintChange change = story.Do(Make(Action::kResolve, "selesai"),
                                          Officer(), Wib(2026, 12, 3, 10));
  EXPECT_FALSE(change.resolution->within_deadline);
  EXPECT_THAT(Types(change), ElementsAre("complaint.resolved"));
}

// ---- the reporter's answer ----

TEST(Decide, AcceptWithinTheWindowCloses) {
  Story story;
  story.ToResolved();
  const absl::Time now = Wib(2026, 12, 5, 23, 59);
  const ComplaintChange change =
      story.Do(Make(Action::kAccept), Citizen(), now);
  EXPECT_EQ(change.updated.status(), v1::COMPLAINT_STATUS_CLOSED);
  const std::vector<Deadline> response =
      DeadlinesOf(change.updated, v1::DEADLINE_KIND_RESPONSE);
  ASSERT_EQ(response.size(), 1u);
  EXPECT_EQ(ToAbslTime(response[0].met_time()), now);
  EXPECT_FALSE(response[0].overdue());
  EXPECT_THAT(Types(change), ElementsAre("complaint.closed"));
  EXPECT_EQ(Payload<ComplaintStatusChanged>(change.events[0]).to_status(),
            "CLOSED");
  EXPECT_EQ(change.events[0].actor().subject(), kCitizen);
}

TEST(Decide, AcceptByReceiptSecretCloses) {
  Story story(Filing(Request(), NoToken()));
  story.ToResolved();
  const ComplaintChange change =
      story.Do(Make(Action::kAccept), NoToken(), Wib(2026, 11, 26, 9), kSecret);
  EXPECT_EQ(change.updated.status(), v1::COMPLAINT_STATUS_CLOSED);
}

TEST(Decide, AcceptOrReopenAfterTheWindowIsRefused) {
  Story story;
  story.ToResolved();
  for (const Move& move :
       {Make(Action::kAccept), Make(Action::kReopen, "belum beres")}) {
    EXPECT_EQ(story.Try(move, Citizen(), Wib(2026, 12, 6, 0)).status().code(),
              absl::StatusCode::kFailedPrecondition)
        << ActionName(move.action);
    EXPECT_TRUE(story.Try(move, Citizen(), Wib(2026, 12, 5, 23)).ok())
        << ActionName(move.action);
  }
}

TEST(Decide, ReopenNeedsAReason) {
  Story story;
  story.ToResolved();
  EXPECT_THAT(story.Try(Make(Action::kReopen), Citizen(), Wib(2026, 11, 26, 9))
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason:"));
}

TEST(Decide, ReopenMeetsTheResponseAndOpensANewFollowUpFromNow) {
  Story story;
  story.ToResolved();
  const absl::Time now = Wib(2026, 11, 26, 9);  // Thursday
  const ComplaintChange change =
      story.Do(Make(Action::kReopen, "KTP belum diterima"), Citizen(), now);
  const Complaint& c = change.updated;
  EXPECT_EQ(c.status(), v1::COMPLAINT_STATUS_REOPENED);
  EXPECT_EQ(c.assigned_officer_id(), "");
  EXPECT_EQ(
      ToAbslTime(DeadlinesOf(c, v1::DEADLINE_KIND_RESPONSE)[0].met_time()),
      now);
  const std::vector<Deadline> follow_up =
      DeadlinesOf(c, v1::DEADLINE_KIND_FOLLOW_UP);
  ASSERT_EQ(follow_up.size(), 2u);
  EXPECT_TRUE(follow_up[0].has_met_time());
  EXPECT_FALSE(follow_up[1].has_met_time());
  // Fri 27, Mon 30, Tue 1, Wed 2, Thu 3: the end of Thursday.
  EXPECT_EQ(ToAbslTime(follow_up[1].due_time()), Wib(2026, 12, 4, 0));
  EXPECT_EQ(change.appended[0].note(), "KTP belum diterima");
  EXPECT_THAT(Types(change), ElementsAre("complaint.reopened"));
}

TEST(Decide, AfterReopeningTheLatestResponseWindowCounts) {
  Story story;
  story.ToResolved();  // first window until Dec 6 00:00 WIB
  story.Do(Make(Action::kReopen, "belum"), Citizen(), Wib(2026, 11, 26, 9));
  story.Do(AssignTo("off-3"), Supervisor(), Wib(2026, 11, 26, 10));
  story.Do(Make(Action::kStartWork), Officer(), Wib(2026, 11, 26, 11));
  // Resolved again Thu Dec 3: the new window runs until Dec 14 00:00 WIB.
  const ComplaintChange resolved = story.Do(
      Make(Action::kResolve, "sudah dikirim"), Officer(), Wib(2026, 12, 3, 9));
  const std::vector<Deadline> response =
      DeadlinesOf(resolved.updated, v1::DEADLINE_KIND_RESPONSE);
  ASSERT_EQ(response.size(), 2u);
  EXPECT_EQ(ToAbslTime(response[1].due_time()), Wib(2026, 12, 14, 0));
  // Within the second resolution's follow-up (due Dec 4 00:00 WIB).
  EXPECT_TRUE(resolved.resolution->within_deadline);

  // After the first window, within the second.
  const absl::Time now = Wib(2026, 12, 10, 9);
  const ComplaintChange accepted =
      story.Do(Make(Action::kAccept), Citizen(), now);
  EXPECT_EQ(accepted.updated.status(), v1::COMPLAINT_STATUS_CLOSED);
  const std::vector<Deadline> met =
      DeadlinesOf(accepted.updated, v1::DEADLINE_KIND_RESPONSE);
  ASSERT_EQ(met.size(), 2u);
  EXPECT_EQ(ToAbslTime(met[0].met_time()), Wib(2026, 11, 26, 9));
  EXPECT_EQ(ToAbslTime(met[1].met_time()), now);
}

// ---- auto-close ----

TEST(Decide, AutoCloseClosesAsTheSystemOnlyAfterTheWindow) {
  Story story;
  story.ToResolved();
  MoveContext early = story.Context(NoToken(), Wib(2026, 12, 5, 23));
  early.system = true;
  EXPECT_EQ(
      Decide(story.stored(), Make(Action::kAutoClose), early).status().code(),
      absl::StatusCode::kFailedPrecondition);

  MoveContext sweeper = story.Context(NoToken(), Wib(2026, 12, 6, 0));
  sweeper.system = true;
  const ComplaintChange change = story.Do(Make(Action::kAutoClose), sweeper);
  EXPECT_EQ(change.updated.status(), v1::COMPLAINT_STATUS_CLOSED);
  ASSERT_EQ(change.appended.size(), 1u);
  EXPECT_EQ(change.appended[0].actor().subject(), "system");
  EXPECT_EQ(change.appended[0].from_status(), v1::COMPLAINT_STATUS_RESOLVED);
  EXPECT_EQ(change.appended[0].to_status(), v1::COMPLAINT_STATUS_CLOSED);
  EXPECT_THAT(Types(change), ElementsAre("complaint.closed"));
  EXPECT_EQ(change.events[0].actor().subject(), "system");
  EXPECT_EQ(
      ToAbslTime(DeadlinesOf(change.updated, v1::DEADLINE_KIND_RESPONSE)[0]
                     .met_time()),
      Wib(2026, 12, 6, 0));
}

// ---- comment ----

TEST(Decide, CommentsArePublicOrInternalAndChangeNoStatus) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  const ComplaintChange reply =
      story.Do(Make(Action::kComment, "Sedang kami cek."), Officer(),
               Wib(2026, 11, 23, 11));
  ASSERT_EQ(reply.appended.size(), 1u);
  EXPECT_FALSE(reply.appended[0].internal());
  EXPECT_EQ(reply.appended[0].note(), "Sedang kami cek.");
  EXPECT_EQ(reply.appended[0].from_status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(reply.appended[0].to_status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(reply.updated.status(), v1::COMPLAINT_STATUS_VERIFIED);
  EXPECT_TRUE(reply.events.empty());
  EXPECT_EQ(reply.updated.deadlines_size(), 2);

  Move note = Make(Action::kComment, "pelapor sering komplain");
  note.internal = true;
  const ComplaintChange internal =
      story.Do(note, Supervisor(), Wib(2026, 11, 23, 12));
  EXPECT_TRUE(internal.appended[0].internal());

  // Only comments are internal.
  Move assign = AssignTo("off-2");
  assign.internal = true;
  EXPECT_FALSE(story.Do(assign, Supervisor(), Wib(2026, 11, 23, 13))
                   .appended[0]
                   .internal());
}

TEST(Decide, ACommentNeedsTextOfAtMost4000Characters) {
  Story story;
  const absl::Time now = Wib(2026, 11, 23, 10);
  EXPECT_THAT(story.Try(Make(Action::kComment), Officer(), now).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "text:"));
  EXPECT_THAT(
      story.Try(Make(Action::kComment, std::string(4001, 'x')), Officer(), now)
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "text:"));
  EXPECT_TRUE(
      story.Try(Make(Action::kComment, std::string(4000, 'x')), Officer(), now)
          .ok());
  // Characters, not bytes: 4000 two-byte characters pass.
  std::string wide;
  for (int i = 0; i < 4000; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(story.Try(Make(Action::kComment, wide), Officer(), now).ok());
}

TEST(Decide, AMoveNoteOver4000CharactersIsRefused) {
  Story story;
  EXPECT_THAT(story
                  .Try(Make(Action::kVerify, std::string(4001, 'x')), Officer(),
                       Wib(2026, 11, 23, 10))
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "note:"));
}

// ---- rate ----

TEST(Decide, ARatingIsOneToFiveAndGivenOnce) {
  Story story;
  story.ToResolved();
  const absl::Time now = Wib(2026, 11, 26, 9);
  for (int bad : {0, 6, -1}) {
    EXPECT_THAT(story.Try(RateOf(bad), Citizen(), now).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, "rating:"))
        << bad;
  }
  const ComplaintChange change = story.Do(RateOf(4), Citizen(), now);
  EXPECT_EQ(change.updated.rating(), 4);
  EXPECT_EQ(change.updated.status(), v1::COMPLAINT_STATUS_RESOLVED);
  ASSERT_EQ(change.appended.size(), 1u);
  EXPECT_EQ(change.appended[0].to_status(), v1::COMPLAINT_STATUS_RESOLVED);
  EXPECT_EQ(change.appended[0].note(), "rated 4 of 5");
  EXPECT_TRUE(change.events.empty());
  EXPECT_EQ(story.Try(RateOf(5), Citizen(), now).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Decide, AClosedComplaintMayBeRatedOnlyBeforeResolution) {
  Story early;
  early.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  EXPECT_EQ(
      early.Try(RateOf(5), Citizen(), Wib(2026, 11, 23, 11)).status().code(),
      absl::StatusCode::kFailedPrecondition);

  Story story;
  story.ToResolved();
  story.Do(Make(Action::kAccept), Citizen(), Wib(2026, 11, 26, 9));
  // After the window too: rating has no window.
  const ComplaintChange change =
      story.Do(RateOf(1), Citizen(), Wib(2026, 12, 20, 9));
  EXPECT_EQ(change.updated.rating(), 1);
  EXPECT_EQ(change.updated.status(), v1::COMPLAINT_STATUS_CLOSED);
}

// ---- what every move writes ----

TEST(Decide, TheAnonymousReportersEntryAndEventsNameNobody) {
  Story story(Filing(AnonymousRequest(), Citizen()));
  story.ToResolved();
  // The reporter holds the secret and still sends a token.
  const ComplaintChange rated =
      story.Do(RateOf(2), Citizen(), Wib(2026, 11, 26, 9), kSecret);
  EXPECT_EQ(rated.appended[0].actor().subject(), "");
  const ComplaintChange reopened =
      story.Do(Make(Action::kReopen, "belum"), Citizen(), Wib(2026, 11, 26, 10),
               kSecret);
  EXPECT_EQ(reopened.appended[0].actor().subject(), "");
  ASSERT_EQ(reopened.events.size(), 1u);
  EXPECT_EQ(reopened.events[0].actor().subject(), "");
  EXPECT_THAT(reopened.events[0].SerializeAsString(), Not(HasSubstr(kCitizen)));
  // Staff acting on it are still named.
  const ComplaintChange assigned =
      story.Do(AssignTo("off-2"), Supervisor(), Wib(2026, 11, 26, 11));
  EXPECT_EQ(assigned.appended[0].actor().subject(), "sup-1");
}

TEST(Decide, EveryMovesEntryHasFromToTimeActorAndNote) {
  Story story;
  struct Step {
    Move move;
    Principal caller;
    absl::Time now;
    ComplaintStatus from;
    ComplaintStatus to;
  };
  const std::vector<Step> steps = {
      {Make(Action::kVerify, "n1"), Officer(), Wib(2026, 11, 23, 10),
       v1::COMPLAINT_STATUS_SUBMITTED, v1::COMPLAINT_STATUS_VERIFIED},
      {Make(Action::kAssign, "n2"), Supervisor(), Wib(2026, 11, 23, 11),
       v1::COMPLAINT_STATUS_VERIFIED, v1::COMPLAINT_STATUS_ASSIGNED},
      {Make(Action::kStartWork, "n3"), Officer(), Wib(2026, 11, 23, 12),
       v1::COMPLAINT_STATUS_ASSIGNED, v1::COMPLAINT_STATUS_IN_PROGRESS},
      {Make(Action::kComment, "n4"), Officer(), Wib(2026, 11, 23, 13),
       v1::COMPLAINT_STATUS_IN_PROGRESS, v1::COMPLAINT_STATUS_IN_PROGRESS},
      {Make(Action::kResolve, "n5"), Officer(), Wib(2026, 11, 25, 10),
       v1::COMPLAINT_STATUS_IN_PROGRESS, v1::COMPLAINT_STATUS_RESOLVED},
      {Make(Action::kReopen, "n6"), Citizen(), Wib(2026, 11, 26, 9),
       v1::COMPLAINT_STATUS_RESOLVED, v1::COMPLAINT_STATUS_REOPENED},
  };
  for (const Step& step : steps) {
    Move move = step.move;
    if (move.action == Action::kAssign) move.officer_id = "off-2";
    const ComplaintChange change = story.Do(move, step.caller, step.now);
    ASSERT_EQ(change.appended.size(), 1u) << ActionName(move.action);
    const TimelineEntry& entry = change.appended[0];
    EXPECT_EQ(entry.from_status(), step.from) << ActionName(move.action);
    EXPECT_EQ(entry.to_status(), step.to) << ActionName(move.action);
    EXPECT_EQ(ToAbslTime(entry.time()), step.now) << ActionName(move.action);
    EXPECT_EQ(entry.actor().subject(), step.caller.subject)
        << ActionName(move.action);
    EXPECT_EQ(entry.note(), move.note) << ActionName(move.action);
    EXPECT_EQ(change.updated.status(), step.to) << ActionName(move.action);
    EXPECT_EQ(ToAbslTime(change.updated.update_time()), step.now)
        << ActionName(move.action);
  }
  EXPECT_EQ(story.complaint().timeline_size(), 1 + 6);
}

TEST(Decide, TheUpdatedComplaintHasNoTimelineAndNoReceiptSecret) {
  Story story;
  story.Do(Make(Action::kVerify), Officer(), Wib(2026, 11, 23, 10));
  ASSERT_EQ(story.complaint().timeline_size(), 2);
  // Whatever the loaded copy holds.
  story.mutable_stored().complaint.set_receipt_secret(kSecret);
  const ComplaintChange change =
      story.Do(Make(Action::kComment, "cek"), Officer(), Wib(2026, 11, 23, 11));
  EXPECT_EQ(change.updated.timeline_size(), 0);
  EXPECT_EQ(change.updated.receipt_secret(), "");
  EXPECT_EQ(change.updated.tracking_number(), kTracking);
}

// ---- overdue, median ----

TEST(OverdueEvent, CarriesTheDeadlineOfTheHandlingAgency) {
  DueDeadline due;
  due.complaint_id = "01jf00000000000000000000ab";
  due.tracking_number = kTracking;
  due.agency_id = kAgency;
  due.office_id = "jkt-1";
  due.index = 1;
  due.kind = v1::DEADLINE_KIND_FOLLOW_UP;
  due.due = Wib(2026, 12, 2, 0);
  const absl::Time now = Wib(2026, 12, 2, 0, 1);
  const EventEnvelope event = OverdueEvent(due, now);
  EXPECT_EQ(event.type(), "complaint.overdue");
  EXPECT_EQ(event.agency(), kAgency);
  EXPECT_EQ(event.producer(), "complaint");
  EXPECT_EQ(ToAbslTime(event.occurred_at()), now);
  EXPECT_EQ(event.actor().subject(), "system");
  const auto overdue = Payload<ComplaintOverdue>(event);
  EXPECT_EQ(overdue.complaint_id(), due.complaint_id);
  EXPECT_EQ(overdue.deadline(), "FOLLOW_UP");
  EXPECT_EQ(ToAbslTime(overdue.due_at()), Wib(2026, 12, 2, 0));
  EXPECT_EQ(overdue.office_id(), "jkt-1");

  due.kind = v1::DEADLINE_KIND_VERIFY;
  EXPECT_EQ(Payload<ComplaintOverdue>(OverdueEvent(due, now)).deadline(),
            "VERIFY");
}

TEST(Median, NoneIsZero) {
  std::vector<int64_t> values;
  EXPECT_EQ(Median(values), 0);
}

TEST(Median, AnOddCountGivesTheMiddleOfUnsortedValues) {
  std::vector<int64_t> one = {42};
  EXPECT_EQ(Median(one), 42);
  std::vector<int64_t> values = {900, 5, 300, 7, 100};
  EXPECT_EQ(Median(values), 100);
}

TEST(Median, AnEvenCountGivesTheMeanOfTheMiddleTwo) {
  std::vector<int64_t> values = {40, 10, 30, 1000, 20, 5};
  EXPECT_DOUBLE_EQ(Median(values), 25.0);  // 5 10 [20 30] 40 1000
  std::vector<int64_t> two = {3, 4};
  EXPECT_DOUBLE_EQ(Median(two), 3.5);
  std::vector<int64_t> large = {4'000'000'000'000, 4'000'000'000'001};
  EXPECT_DOUBLE_EQ(Median(large), 4'000'000'000'000.5);
}

}  // namespace
}  // namespace prima::complaint
