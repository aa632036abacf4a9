/* runtime/src/backend.h - behind the scheduler seam: what a backend
 * implements and what the backend-neutral core (registry.c, park.c, dump.c,
 * deadlock.c) offers it. Primitives never include this.
 *
 * A backend decides how a registered task runs and how it blocks:
 *   start(t)   run t (already registered, fields filled) on some thread;
 *              nonzero GORT_E* if it cannot, and then t is not run.
 *   block(t)   called by gort__park on t's own thread/context: consume one
 *              wake token, waiting for it if none is there yet (step 4 of
 *              scheduler.h's protocol); acquire ordering.
 *   wake(t)    give t one token (release ordering); never blocks.
 * Adopted threads (main, foreign threads) block as OS threads under every
 * backend: their thread record carries the token (threads/token.h).
 */
#ifndef GORT_BACKEND_H
#define GORT_BACKEND_H

#include <pthread.h>

#include "hb.h"
#include "internal.h"

typedef struct gort__backend {
  const char *name;
  int (*start)(gort__task *t);
  void (*block)(gort__task *t);
  void (*wake)(gort__task *t);
  void (*yield)(void);
  /* gort_syscall_enter/exit (gort/task.h). */
  void (*syscall_enter)(void);
  void (*syscall_exit)(void);
  /* OS threads the backend runs now (for the deadlock detector's census). */
  long (*threads_alive)(void);
  /* Retire idle worker threads (gort_runtime_quiesce). */
  void (*quiesce)(void);
  /* List helper thread ids into out[n..max), return the new count. */
  size_t (*list_threads)(pid_t *out, size_t max, size_t n);
  void (*counters)(gort_counters *c);
  /* fork(): around the registry's own handlers. */
  void (*atfork_prepare)(void);
  void (*atfork_parent)(void);
  void (*atfork_child)(void);
} gort__backend;

extern const gort__backend gort__threads_backend, gort__mn_backend;
/* The backend in use, fixed before the first spawn. */
extern const gort__backend *gort__be;

/* ---- the registry (registry.c) ---- */

extern pthread_mutex_t gort__reg_lock;
extern gort__task *gort__reg_head; /* gort__reg_lock */
/* Whether a listed record is a live task's (under gort__reg_lock): a spawn
 * publishes a reused record with a release store, so this acquires; seq_cst
 * for an exit's handshake with gort__reg_read_begin (registry.c). */
static inline bool gort__reg_alive(gort__task *t) {
  bool alive = atomic_load(&t->reg_alive);
  if (alive) GORT__HB_AFTER(&t->reg_alive);
  return alive;
}
/* Around a walk that reads live records' fields, with gort__reg_lock held:
 * an exit that leaves its record listed takes no lock, and waits for such a
 * reader instead (registry.c, reg_remove). */
void gort__reg_read_begin(void);
void gort__reg_read_end(void);
extern _Atomic int64_t gort__parked_count, gort__live_count;
extern _Atomic int64_t gort__adopted_alive;
extern _Atomic bool gort__deadlock_reported; /* cleared by any ready */
extern _Thread_local gort__task *gort__tls_task;

/* A spawned task's fn has returned on its thread: unregister and free it,
 * then check for a deadlock (the last running task may be this one). */
void gort__task_exit(gort__task *t);
/* Unlist and free a thread's cached task records (local.h's list). */
void gort__reg_drop_cached(void *list);
/* Snapshot one task for introspection. */
void gort__task_info_fill(gort_task_info *o, const gort__task *t);

/* ---- dump.c ---- */
void gort__install_sigquit(void);

#endif
