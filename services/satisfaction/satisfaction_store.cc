#include "services/satisfaction/satisfaction_store.h"

namespace prima::satisfaction {}  // namespace prima::satisfaction
