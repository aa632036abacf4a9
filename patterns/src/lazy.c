/* lazy.c - once initialisation (gortp/lazy.h).
 *
 * Invariant: value and err are written only inside gort_once_do's call of
 * lazy_run, which completes before any gort_once_do returns, so every
 * reader after gort_once_do sees the final values.
 */
#include "gortp/lazy.h"

static void lazy_run(void *p) {
  gortp_lazy *l = p;
  l->err = l->init ? l->init(l->arg, &l->value) : GORT_EINVAL;
}

int gortp_lazy_get(gortp_lazy *l, void **value) {
  if (!l) return GORT_EINVAL;
  gort_once_do(&l->once, lazy_run, l);
  if (value) *value = l->value;
  return l->err;
}

static void close_run(void *p) { gort_chan_close(((gortp_lazy_close_once *)p)->chan); }

void gortp_lazy_close_once_do(gortp_lazy_close_once *co) {
  if (co) gort_once_do(&co->once, close_run, co);
}
