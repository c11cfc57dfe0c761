#include "services/complaint/complaint_flow.h"

namespace prima::complaint {}  // namespace prima::complaint
