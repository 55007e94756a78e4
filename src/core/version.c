/* version.c — the library's own version, as compiled (BD_VERSION of the
 * header it was built with), for programs that meet another libbadak.so.0
 * at run time than the header they were compiled against. */
#include "internal.h"

const char *bd_version(void)
{
    return BD_VERSION;
}

int bd_version_number(void)
{
    return BD_VERSION_NUMBER;
}
