// End to end: the real `catalog` and `queue` binaries against a real Redis,
// driven only by the real `prima` CLI through a small day at one office: the
// region admin applies a directory (an office open around the clock, so the
// test runs at any hour), citizens take tickets at the kiosk and with a token,
// officers open counters and call, serve, transfer and mark a no-show, a
// citizen cancels, a supervisor reads the day's statistics, and the board and
// a ticket watch show their snapshots. An officer of another agency is refused.
// A second case books, checks in and cancels appointments.
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prima/queue/v1/queue.pb.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "tests/testing/e2e_stack.h"

namespace prima {
namespace {

using ::prima::queue::v1::Appointment;
using ::prima::queue::v1::AppointmentSettings;
using ::prima::queue::v1::BoardUpdate;
using ::prima::queue::v1::CounterSession;
using ::prima::queue::v1::ListAvailableSlotsResponse;
using ::prima::queue::v1::QueueStats;
using ::prima::queue::v1::Ticket;
using ::prima::queue::v1::TicketUpdate;
using ::prima::testing::ExpectRpcError;
using ::prima::testing::FromJson;

constexpr char kOffice[] = "e2e-kantor";
constexpr char kPriorityCounter[] = "e2e-loket-prioritas";
constexpr char kCounter[] = "e2e-loket-1";

// The test's directory, next to this file.
std::string DirectoryFile() {
  std::string path = __FILE__;
  return path.substr(0, path.rfind('/') + 1) + "queue_e2e_directory.textproto";
}

std::string DateText(const ::prima::common::v1::LocalDate& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

class QueueE2eTest : public testing::E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartStack(
        PRIMA_CLI_PATH,
        {{"catalog", PRIMA_CATALOG_PATH}, {"queue", PRIMA_QUEUE_PATH}}));
    ASSERT_NO_FATAL_FAILURE(ApplyDirectory(DirectoryFile()));
  }

  // `prima queue ARGS -o json`.
  testing::ProcessResult Queue(std::vector<std::string> args,
                               const std::string& token = "") {
    args.insert(args.begin(), "queue");
    args.insert(args.end(), {"-o", "json"});
    return Prima(std::move(args), token);
  }
};

TEST_F(QueueE2eTest, ASmallDayAtOneOffice) {
  const std::string citizen = Mint("citizen", "warga-e2e", "");
  const std::string siti = Mint("officer", "e2e-siti", "e2e-dukcapil");
  const std::string andi = Mint("officer", "e2e-andi", "e2e-dukcapil");
  const std::string supervisor =
      Mint("supervisor", "e2e-kepala", "e2e-dukcapil");
  const std::string foreign = Mint("officer", "e2e-yohanes", "e2e-samsat");

  // ---- tickets: an anonymous kiosk ticket, then a citizen's ----
  testing::ProcessResult r =
      Queue({"issue", kOffice, "e2e-ktp", "--channel", "kiosk", "--request-id",
             "e2e-kiosk-ticket-0001"});
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("queue");
  const Ticket kiosk = FromJson<Ticket>(r);
  EXPECT_EQ(kiosk.number(), "A-001") << r.out;
  EXPECT_EQ(kiosk.status(), queue::v1::TICKET_STATUS_WAITING);
  EXPECT_EQ(kiosk.channel(), queue::v1::CHANNEL_KIOSK);
  EXPECT_EQ(kiosk.priority_class(), queue::v1::PRIORITY_CLASS_REGULAR);
  EXPECT_EQ(kiosk.position(), 1);
  EXPECT_EQ(kiosk.open_counters(), 0);
  EXPECT_EQ(kiosk.agency_id(), "e2e-dukcapil");
  ASSERT_FALSE(kiosk.receipt_secret().empty()) << r.out;
  ASSERT_FALSE(kiosk.id().empty());

  r = Queue({"issue", kOffice, "e2e-ktp", "--channel", "mobile", "--class",
             "elderly", "--request-id", "e2e-elderly-1"},
            citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Ticket elderly = FromJson<Ticket>(r);
  EXPECT_EQ(elderly.number(), "A-002") << r.out;
  EXPECT_EQ(elderly.priority_class(), queue::v1::PRIORITY_CLASS_ELDERLY);
  EXPECT_EQ(elderly.channel(), queue::v1::CHANNEL_MOBILE);

  // A retry with the same request id returns the same ticket.
  r = Queue({"issue", kOffice, "e2e-ktp", "--channel", "mobile", "--class",
             "elderly", "--request-id", "e2e-elderly-1"},
            citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).id(), elderly.id()) << r.out;

  r = Queue({"issue", kOffice, "e2e-kk", "--channel", "kiosk"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Ticket family = FromJson<Ticket>(r);
  EXPECT_EQ(family.number(), "B-001") << r.out;

  r = Queue({"issue", kOffice, "e2e-ktp", "--channel", "web"}, citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Ticket leaving = FromJson<Ticket>(r);
  EXPECT_EQ(leaving.number(), "A-003") << r.out;

  // Anyone holding the receipt secret reads the ticket; the table shows it.
  r = Prima({"queue", "get", kiosk.id(), "--secret", kiosk.receipt_secret()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "A-001")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "WAITING")) << r.out;
  r = Queue({"get", kiosk.id(), "--secret", kiosk.receipt_secret()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).number(), "A-001");
  EXPECT_TRUE(FromJson<Ticket>(r).receipt_secret().empty()) << r.out;

  // A watch starts with the ticket as it is.
  r = Queue({"watch-ticket", kiosk.id(), "--secret", kiosk.receipt_secret(),
             "--count", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const TicketUpdate watched = FromJson<TicketUpdate>(r, /*first_line=*/true);
  EXPECT_EQ(watched.kind(), TicketUpdate::KIND_SNAPSHOT) << r.out;
  EXPECT_EQ(watched.ticket().number(), "A-001") << r.out;
  EXPECT_EQ(watched.ticket().status(), queue::v1::TICKET_STATUS_WAITING);

  // The citizen leaves: their token cancels the ticket they took.
  r = Queue({"cancel", leaving.id()}, citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).status(), queue::v1::TICKET_STATUS_CANCELLED);

  // ---- counters: an officer of another agency is refused ----
  r = Queue({"open", kCounter}, foreign);
  ExpectRpcError(r, "PERMISSION_DENIED");

  r = Queue({"open", kPriorityCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CounterSession session = FromJson<CounterSession>(r);
  EXPECT_EQ(session.state(), queue::v1::COUNTER_STATE_OPEN);
  EXPECT_EQ(session.officer_id(), "e2e-siti");
  EXPECT_TRUE(session.priority());

  // The priority counter calls the elderly citizen first, though A-001 waits
  // longer.
  r = Queue({"next", kPriorityCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Ticket called = FromJson<Ticket>(r);
  EXPECT_EQ(called.id(), elderly.id()) << r.out;
  EXPECT_EQ(called.status(), queue::v1::TICKET_STATUS_CALLED);
  EXPECT_EQ(called.counter_name(), "Loket Prioritas");
  EXPECT_EQ(called.officer_id(), "e2e-siti");

  r = Queue({"counter", kPriorityCounter}, supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<CounterSession>(r).current_ticket_id(), elderly.id());

  r = Queue({"start", kPriorityCounter, elderly.id()}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).status(), queue::v1::TICKET_STATUS_SERVING);
  r = Queue({"complete", kPriorityCounter, elderly.id(), "--outcome", "done"},
            siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Ticket done = FromJson<Ticket>(r);
  EXPECT_EQ(done.status(), queue::v1::TICKET_STATUS_COMPLETED);
  EXPECT_EQ(done.outcome(), queue::v1::SERVICE_OUTCOME_DONE);

  // Next comes A-001; it belongs at the family-card service and is passed on
  // there, keeping its number and its wait start.
  r = Queue({"next", kPriorityCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).id(), kiosk.id()) << r.out;
  r = Queue(
      {"transfer", kPriorityCounter, kiosk.id(), "--to-service", "e2e-kk"},
      siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Ticket transferred = FromJson<Ticket>(r);
  EXPECT_EQ(transferred.status(), queue::v1::TICKET_STATUS_WAITING);
  EXPECT_EQ(transferred.service_id(), "e2e-kk");
  EXPECT_EQ(transferred.number(), "A-001");
  EXPECT_EQ(transferred.transfer_count(), 1);
  EXPECT_EQ(transferred.wait_start_time().seconds(),
            kiosk.wait_start_time().seconds())
      << r.out;
  EXPECT_EQ(transferred.wait_start_time().nanos(),
            kiosk.wait_start_time().nanos());

  // At Loket 1 the transferred A-001 comes before B-001: it has waited longer.
  r = Queue({"open", kCounter}, andi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Queue({"next", kCounter}, andi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  called = FromJson<Ticket>(r);
  EXPECT_EQ(called.id(), kiosk.id()) << r.out;
  EXPECT_EQ(called.counter_name(), "Loket 1");
  r = Queue({"recall", kCounter, kiosk.id()}, andi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).recall_count(), 1) << r.out;
  r = Queue({"complete", kCounter, kiosk.id(), "--outcome", "referred"}, andi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).outcome(), queue::v1::SERVICE_OUTCOME_REFERRED);
  r = Queue({"pause", kCounter}, andi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<CounterSession>(r).state(),
            queue::v1::COUNTER_STATE_PAUSED);

  // B-001 does not come.
  r = Queue({"next", kPriorityCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).id(), family.id()) << r.out;
  r = Queue({"no-show", kPriorityCounter, family.id()}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).status(), queue::v1::TICKET_STATUS_NO_SHOW);

  // Nobody waits any more.
  r = Queue({"next", kPriorityCounter}, siti);
  ExpectRpcError(r, "NOT_FOUND");

  // ---- the board, a finished ticket's watch, the day's statistics ----
  r = Queue({"board", kOffice, "--count", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const BoardUpdate board = FromJson<BoardUpdate>(r, /*first_line=*/true);
  EXPECT_EQ(board.kind(), BoardUpdate::KIND_SNAPSHOT) << r.out;
  ASSERT_GE(board.calls_size(), 1) << r.out;
  EXPECT_EQ(board.calls(0).ticket_number(), "B-001") << r.out;
  EXPECT_EQ(board.calls(0).counter_name(), "Loket Prioritas") << r.out;
  for (const auto& waiting : board.waiting()) {
    EXPECT_EQ(waiting.waiting(), 0) << r.out;
  }
  // The table board, as a display without a terminal gets it.
  r = Prima({"queue", "board", kOffice, "--count", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, kOffice)) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "B-001")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "\033[")) << r.out;

  // A watch of a finished ticket shows it once and ends (--count 2 only
  // bounds the wait should the stream stay open).
  r = Queue({"watch-ticket", elderly.id(), "--count", "2"}, citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::vector<std::string>(
                absl::StrSplit(absl::StripAsciiWhitespace(r.out), '\n'))
                .size(),
            1u)
      << r.out;
  EXPECT_EQ(FromJson<TicketUpdate>(r, /*first_line=*/true).ticket().status(),
            queue::v1::TICKET_STATUS_COMPLETED)
      << r.out;

  const std::string today = DateText(kiosk.local_date());
  r = Queue({"stats", kOffice, "--date", today}, supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const QueueStats stats = FromJson<QueueStats>(r);
  EXPECT_EQ(stats.issued(), 4) << r.out;
  EXPECT_EQ(stats.called(), 3) << r.out;
  EXPECT_EQ(stats.served(), 2) << r.out;
  EXPECT_EQ(stats.no_shows(), 1) << r.out;
  EXPECT_EQ(stats.cancelled(), 1) << r.out;
  EXPECT_EQ(stats.transferred(), 1) << r.out;
  EXPECT_EQ(stats.waiting_now(), 0) << r.out;
  // An officer may not read them.
  r = Queue({"stats", kOffice, "--date", today}, andi);
  ExpectRpcError(r, "PERMISSION_DENIED");

  // The day ends: both counters close.
  r = Queue({"close", kPriorityCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<CounterSession>(r).state(),
            queue::v1::COUNTER_STATE_CLOSED);
  r = Queue({"close", kCounter}, andi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// The first slot of `response` with a place left, or null.
const ::prima::queue::v1::Slot* FirstAvailable(
    const ::prima::queue::v1::ListAvailableSlotsResponse& response,
    int skip = 0) {
  for (const auto& slot : response.slots()) {
    if (slot.available() > 0 && skip-- == 0) return &slot;
  }
  return nullptr;
}

// Receipt secrets are derived from a server key and the record's id: the
// reply and its retry carry them, Redis and its append-only file never do
// (only their SHA-256).
TEST_F(QueueE2eTest, ReceiptSecretsAreGivenButNeverStored) {
  ASSERT_TRUE(stack_->redis().EnableAppendOnly().ok());
  const std::vector<std::string> issue = {"issue",
                                          kOffice,
                                          "e2e-ktp",
                                          "--channel",
                                          "kiosk",
                                          "--request-id",
                                          "e2e-receipt-ticket-1"};
  testing::ProcessResult r = Queue(issue);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("queue");
  const Ticket ticket = FromJson<Ticket>(r);
  ASSERT_EQ(ticket.receipt_secret().size(), 32u) << r.out;
  r = Queue(issue);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).receipt_secret(), ticket.receipt_secret())
      << "a retry recomputes the same secret";
  r = Queue({"get", ticket.id(), "--secret", ticket.receipt_secret()});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  absl::StatusOr<std::vector<std::string>> plain =
      stack_->redis().WhereStored(ticket.receipt_secret());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->empty())
      << "the plain secret is in " << absl::StrJoin(*plain, ", ");
  // The search does find what is there: the secret's hash, in the ticket
  // and in the append-only file.
  absl::StatusOr<std::vector<std::string>> hashed =
      stack_->redis().WhereStored(Sha256Hex(ticket.receipt_secret()));
  ASSERT_TRUE(hashed.ok()) << hashed.status();
  EXPECT_TRUE(absl::c_any_of(*hashed, [](const std::string& place) {
    return absl::StartsWith(place, "append-only file");
  })) << absl::StrJoin(*hashed, ", ");
  EXPECT_TRUE(absl::c_any_of(*hashed, [&](const std::string& place) {
    return absl::StrContains(place, ticket.id());
  })) << absl::StrJoin(*hashed, ", ");
}

TEST_F(QueueE2eTest, AppointmentBookCheckInAndCancel) {
  const std::string citizen = Mint("citizen", "warga-e2e", "");
  const std::string supervisor =
      Mint("supervisor", "e2e-kepala", "e2e-dukcapil");

  testing::ProcessResult r = Queue({"settings", kOffice, "e2e-ktp",
                                    "--slot-minutes", "15", "--capacity", "1"},
                                   supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const AppointmentSettings settings = FromJson<AppointmentSettings>(r);
  EXPECT_EQ(settings.slot_minutes(), 15) << r.out;
  EXPECT_EQ(settings.capacity_per_slot(), 1) << r.out;
  EXPECT_EQ(settings.booking_horizon_days(), 14) << r.out;

  // Today in the office's zone (WIB, UTC+7 all year); in its last quarter
  // hour no slot is left, and the bookings go to tomorrow.
  absl::CivilDay day =
      absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(7 * 60 * 60));
  auto list = [&]() {
    return Queue(
        {"slots", kOffice, "e2e-ktp", "--date", absl::FormatCivilTime(day)});
  };
  r = list();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ListAvailableSlotsResponse slots = FromJson<ListAvailableSlotsResponse>(r);
  const bool today = FirstAvailable(slots, 1) != nullptr;
  if (!today) {
    ++day;
    r = list();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    slots = FromJson<ListAvailableSlotsResponse>(r);
  }
  ASSERT_NE(FirstAvailable(slots, 1), nullptr) << r.out;
  EXPECT_EQ(slots.settings().slot_minutes(), 15) << r.out;
  const std::string first = absl::FormatTime(
      absl::RFC3339_sec, ToAbslTime(FirstAvailable(slots)->start_time()),
      absl::UTCTimeZone());
  const std::string second = absl::FormatTime(
      absl::RFC3339_sec, ToAbslTime(FirstAvailable(slots, 1)->start_time()),
      absl::UTCTimeZone());

  // A citizen books the first free slot; the slot is then full.
  r = Queue({"book", kOffice, "e2e-ktp", "--slot", first}, citizen);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Appointment booked = FromJson<Appointment>(r);
  EXPECT_EQ(booked.status(), queue::v1::APPOINTMENT_STATUS_BOOKED) << r.out;
  ASSERT_FALSE(booked.receipt_secret().empty()) << r.out;
  absl::StatusOr<std::vector<std::string>> stored =
      stack_->redis().WhereStored(booked.receipt_secret());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->empty()) << absl::StrJoin(*stored, ", ");
  r = Queue({"book", kOffice, "e2e-ktp", "--slot", first});
  ExpectRpcError(r, "RESOURCE_EXHAUSTED");

  r = Queue({"appointment", booked.id(), "--secret", booked.receipt_secret()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Appointment>(r).slot_start_time().seconds(),
            booked.slot_start_time().seconds());

  // Checking in turns it into an appointment ticket with the same secret
  // (only on the appointment's day).
  r = Queue({"check-in", booked.id(), "--secret", booked.receipt_secret()});
  if (today) {
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Ticket ticket = FromJson<Ticket>(r);
    EXPECT_EQ(ticket.priority_class(), queue::v1::PRIORITY_CLASS_APPOINTMENT)
        << r.out;
    EXPECT_EQ(ticket.appointment_id(), booked.id());
    EXPECT_EQ(ticket.receipt_secret(), booked.receipt_secret());
    EXPECT_EQ(ticket.number(), "A-001") << r.out;
    r = Queue({"appointment", booked.id()}, citizen);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(FromJson<Appointment>(r).status(),
              queue::v1::APPOINTMENT_STATUS_CHECKED_IN);
    EXPECT_EQ(FromJson<Appointment>(r).ticket_id(), ticket.id());
  } else {
    ExpectRpcError(r, "FAILED_PRECONDITION");
  }

  // A second booking is cancelled; its place is free again.
  r = Queue({"book", kOffice, "e2e-ktp", "--slot", second});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Appointment other = FromJson<Appointment>(r);
  r = Queue(
      {"cancel-appointment", other.id(), "--secret", other.receipt_secret()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Appointment>(r).status(),
            queue::v1::APPOINTMENT_STATUS_CANCELLED);
  r = list();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  slots = FromJson<ListAvailableSlotsResponse>(r);
  bool freed = false;
  for (const auto& slot : slots.slots()) {
    if (slot.start_time().seconds() == other.slot_start_time().seconds()) {
      freed = slot.booked() == 0 && slot.available() == 1;
    }
  }
  EXPECT_TRUE(freed) << r.out;
}

}  // namespace
}  // namespace prima
