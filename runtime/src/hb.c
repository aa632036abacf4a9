/* hb.c - whether the happens-before requests of hb.h run: only under
 * Helgrind or DRD, told apart from other Valgrind tools by the preload
 * library each tool maps into the process. */
#include "hb.h"

#ifdef GORT__HAVE_VALGRIND
#include <stdio.h>
#include <string.h>

bool gort__hb_on, gort__hb_drd;

/* Priority 101: before the runtime's own constructor creates any object. */
__attribute__((constructor(101))) static void hb_init(void) {
  if (!RUNNING_ON_VALGRIND) return;
  FILE *maps = fopen("/proc/self/maps", "re");
  if (!maps) {
    gort__hb_on = true; /* cannot tell the tool: requests are harmless */
    return;
  }
  char line[4096];
  while (!gort__hb_on && fgets(line, sizeof line, maps)) {
    gort__hb_drd = strstr(line, "vgpreload_drd") != NULL;
    gort__hb_on = gort__hb_drd || strstr(line, "vgpreload_helgrind");
  }
  fclose(maps);
}
#endif
