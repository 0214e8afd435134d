/* The C tests' one assertion: CHECK(cond) reports a failed condition with
 * its place and counts it in `failures`, which main() turns into the exit
 * status. Included once per test program. */
#pragma once
#include <stdio.h>

static int failures = 0;
#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)
