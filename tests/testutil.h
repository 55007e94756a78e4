/* testutil.h — shared by the cmocka test programs. */
#ifndef BADAK_TESTUTIL_H
#define BADAK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <alloca.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badak.h"

/* assert |a - b| <= tol, printing both values on failure */
#define assert_close(a, b, tol)                                                     \
    do {                                                                            \
        double a_ = (a), b_ = (b);                                                  \
        if (!(fabs(a_ - b_) <= (tol)))                                              \
            fail_msg("%s = %.9g, expected %.9g (tol %g)", #a, a_, b_, (double)(tol)); \
    } while (0)

#define assert_ok(expr)                                                             \
    do {                                                                            \
        bd_status s_ = (expr);                                                      \
        if (s_ != BD_OK)                                                            \
            fail_msg("%s -> %s: %s", #expr, bd_status_name(s_), bd_errmsg());      \
    } while (0)

/* assert that expr fails with status st and a message containing `sub` */
#define assert_fails(expr, st, sub)                                                 \
    do {                                                                            \
        bd_status s_ = (expr);                                                      \
        if (s_ != (st))                                                             \
            fail_msg("%s -> %s, expected %s (%s)", #expr, bd_status_name(s_),       \
                     bd_status_name(st), bd_errmsg());                              \
        if (!strstr(bd_errmsg(), (sub)))                                            \
            fail_msg("message \"%s\" lacks \"%s\"", bd_errmsg(), (sub));            \
    } while (0)

#endif
