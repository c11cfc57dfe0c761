#include "services/queue/queue_rules.h"
