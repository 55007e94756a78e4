/* test_version.c — the runtime version: bd_version() and bd_version_number()
 * report the header's BD_VERSION and BD_VERSION_NUMBER, and the string and
 * the numeric macros agree (the Makefile names libbadak.so.X.Y.Z and its
 * SONAME from BD_VERSION, so they must). */
#include "testutil.h"

#include <stdio.h>

static void runtime_matches_header(void **state)
{
    (void)state;
    assert_string_equal(bd_version(), BD_VERSION);
    assert_int_equal(bd_version_number(), BD_VERSION_NUMBER);
}

static void string_matches_numbers(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", BD_VERSION_MAJOR, BD_VERSION_MINOR, BD_VERSION_PATCH);
    assert_string_equal(BD_VERSION, want);
    assert_int_equal(BD_VERSION_NUMBER,
                     BD_VERSION_MAJOR * 10000 + BD_VERSION_MINOR * 100 + BD_VERSION_PATCH);
    /* 0.2.0 is the first release with a stable ABI (docs/api.md) */
    assert_true(BD_VERSION_NUMBER >= 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runtime_matches_header),
        cmocka_unit_test(string_matches_numbers),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
