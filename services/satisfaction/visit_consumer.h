#pragma once

// What the satisfaction service learns from the other services' events
// (consumer group "satisfaction"):
// - prima:events:queue, `ticket.service_completed`: one served visit in each
//   scope (agency, office, service, officer) and period of the ticket's local
//   date, the population of the sample-adequacy check; and an SKM invitation
//   for that visit, answered with the ticket's receipt secret (the event
//   carries its SHA-256).
// - prima:events:complaint, `complaint.resolved`: an SKM invitation answered
//   with the complaint's receipt secret, when the complaint names an office.
// Both are deduplicated per event (a redelivered event changes nothing).

#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/satisfaction/satisfaction_store.h"

namespace prima::satisfaction {

// Group "satisfaction" on EventStreamKey(producer) ("queue" or "complaint").
ConsumerOptions VisitConsumerOptions(absl::string_view producer);

// The handler of both streams. It blocks its consumer thread on `store`'s
// client; `store` and `clock` must outlive it.
EventHandler MakeVisitHandler(SatisfactionStore& store, const Clock& clock,
                              absl::Duration invitation_ttl);

}  // namespace prima::satisfaction
