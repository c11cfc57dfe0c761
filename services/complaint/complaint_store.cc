#include "services/complaint/complaint_store.h"

namespace prima::complaint {}  // namespace prima::complaint
