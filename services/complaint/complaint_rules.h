#pragma once

// The complaint service's domain rules (pure: no gRPC, no Redis). Filled in by
// issue 5.

namespace prima::complaint {}  // namespace prima::complaint
