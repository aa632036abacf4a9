/* runtime/src/threads/token.h - how an OS thread blocks: the wake token of
 * one thread record, and the thread record itself. Used by the thread
 * backend (parks and idle hand-offs) and, under every backend, by adopted
 * threads. Never seen by the primitives.
 */
#ifndef GORT_THREADS_TOKEN_H
#define GORT_THREADS_TOKEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gort__task gort__task;

/* An OS thread that runs tasks: a task thread of the thread backend, or an
 * adopted thread (then only tid and wake are used). */
typedef struct gort__thread {
  pthread_t pt;
  pid_t tid;                       /* written by the thread before any task runs */
  _Atomic(gort__task *) next_task; /* the idle hand-off slot; EXIT_TASK asks it to exit */
  /* The one token of this thread: parks of the task it runs, and the idle
   * hand-off between tasks. 0 = no token, 1 = token (given, not consumed),
   * 2 = the thread sleeps on the futex. Only the thread moves it 0->2 and
   * 1->0; only gort__give_token moves it to 1. */
  _Atomic uint32_t wake;
  size_t stack_size;              /* fixed at creation */
  bool in_idle;                   /* idle_lock: on the idle stack */
  struct gort__thread *idle_next; /* idle_lock */
} gort__thread;

/* A new thread record: its token and hand-off slot are the happens-before
 * edges themselves, not data (hb.h). */
void gort__thread_record_init(gort__thread *th);

/* Spin up to budget_ns (if allowed, see token.c), then sleep until a token
 * is present, and consume it. timeout_ns > 0 bounds the sleep: false when it
 * ran out with no token (the token is then not consumed, and the caller must
 * settle with a possible giver before calling again). */
bool gort__wait_token(_Atomic uint32_t *wake, int64_t budget_ns, int64_t timeout_ns);
void gort__give_token(_Atomic uint32_t *wake);
/* Spin up to budget_ns until *word == value, if no more than the allowed
 * number of threads already spin; true when the value was seen. */
bool gort__spin_until(_Atomic uint32_t *word, uint32_t value, int64_t budget_ns);

/* Park and wake a task that owns an OS thread (t->thread): spin briefly
 * (GORT_SPIN_NS, default 20 us), then sleep on its token. */
void gort__os_block(gort__task *t);
void gort__os_wake(gort__task *t);

#endif
