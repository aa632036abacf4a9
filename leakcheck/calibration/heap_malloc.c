/* heap_malloc.c - a malloc never freed.
 *
 * Leak: use_buffer() gets a buffer from make_buffer() and drops it.
 * Fixed: it frees the buffer.
 *
 * noinline keeps the allocation site a frame of its own, and scrub_stack()
 * overwrites stale copies of the pointer on the stack: a heap checker scans
 * stacks conservatively and would call a leaked block "reachable" through
 * such a leftover.
 */
#include <stdlib.h>
#include <string.h>

/* Where the buffer is published, so the compiler cannot prove it unused and
 * drop the malloc altogether (clang does, for a block that never escapes). */
static char *volatile published;

__attribute__((noinline)) static char *make_buffer(size_t n) {
  char *b = malloc(n);
  if (b) memset(b, 'x', n);
  published = b;
  return b;
}

__attribute__((noinline)) static int use_buffer(void) {
  char *b = make_buffer(4096);
  if (!b) return -1;
  int ok = b[0] == 'x' && b[4095] == 'x';
  published = NULL;
#ifdef LEAKCHECK_FIXED
  free(b);
#endif
  return ok ? 0 : -1;
}

__attribute__((noinline)) static void scrub_stack(void) {
  volatile char pad[16384];
  for (size_t i = 0; i < sizeof pad; i++) pad[i] = 0;
}

int main(void) {
  int rc = use_buffer();
  scrub_stack();
  return rc == 0 ? 0 : 1;
}
