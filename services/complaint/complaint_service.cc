#include "services/complaint/complaint_service.h"

namespace prima::complaint {}  // namespace prima::complaint
