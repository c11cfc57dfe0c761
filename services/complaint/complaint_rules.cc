#include "services/complaint/complaint_rules.h"
