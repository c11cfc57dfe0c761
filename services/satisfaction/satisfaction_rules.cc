#include "services/satisfaction/satisfaction_rules.h"

namespace prima::satisfaction {}  // namespace prima::satisfaction
