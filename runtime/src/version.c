/* version.c - gort_version: the version the program runs with. */
#include "gort/version.h"

const char *gort_version(void) { return GORT_VERSION_STRING; }
