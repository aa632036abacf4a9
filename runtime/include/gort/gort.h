/* gort/gort.h - the whole user API. */
#ifndef GORT_GORT_H
#define GORT_GORT_H

#include "gort/version.h"
#include "gort/err.h"
#include "gort/task.h"
#include "gort/chan.h"
#include "gort/select.h"
#include "gort/timer.h"
#include "gort/context.h"
#include "gort/sync.h"
#include "gort/errgroup.h"
#include "gort/semaphore.h"
#include "gort/rate.h"
#include "gort/singleflight.h"
#include "gort/pool.h"
#endif
