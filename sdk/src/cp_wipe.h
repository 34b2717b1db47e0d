/* Private: zero secrets in a way the compiler may not drop. */
#ifndef CERTPILOT_CP_WIPE_H
#define CERTPILOT_CP_WIPE_H

#include <stddef.h>

static inline void cp_wipe(void *p, size_t n)
{
  volatile unsigned char *v = (volatile unsigned char *)p;

  while (n-- > 0)
    *v++ = 0;
}

#endif
