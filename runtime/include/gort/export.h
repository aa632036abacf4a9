/* gort/export.h - GORT_API marks every public declaration.
 *
 * gort's libraries are compiled with -fvisibility=hidden, so only what a
 * public header marks GORT_API is exported from libgort.so; the internals
 * (gort__*) stay private even though they are not static. Every public header
 * includes this one; a declaration without GORT_API links against the static
 * library but not the shared one (tests/check-exports.sh catches that).
 */
#ifndef GORT_EXPORT_H
#define GORT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define GORT_API __attribute__((visibility("default")))
#else
#define GORT_API
#endif

#endif
