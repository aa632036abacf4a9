/* gort/version.h - gort's version.
 *
 * The three numbers below are the only place the version is written: the
 * Makefile reads them to name the shared library (libgort.so.MAJOR) and to
 * fill gort.pc's Version. The major number changes with every incompatible
 * change of the public headers.
 */
#ifndef GORT_VERSION_H
#define GORT_VERSION_H

#include "gort/export.h"

#define GORT_VERSION_MAJOR 0
#define GORT_VERSION_MINOR 1
#define GORT_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" as a string literal. */
#define GORT__STR2(x) #x
#define GORT__STR(x) GORT__STR2(x)
#define GORT_VERSION_STRING \
  GORT__STR(GORT_VERSION_MAJOR) "." GORT__STR(GORT_VERSION_MINOR) "." GORT__STR(GORT_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library the program runs with, as
 * "MAJOR.MINOR.PATCH" (compare with GORT_VERSION_STRING, the version it was
 * compiled against). */
GORT_API const char *gort_version(void);

#ifdef __cplusplus
}
#endif
#endif
