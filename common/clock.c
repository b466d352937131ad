/* clock.c: monotonic and wall clocks. */
#include "clock.h"

#include <stdio.h>
#include <time.h>

uint64_t rf_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rf_clock_mono_ms(void)
{
    return rf_clock_mono_ns() / 1000000u;
}

int64_t rf_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rf_clock_format_iso(int64_t wall_ms, char *out, unsigned long outsz)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    int ms = (int)(wall_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ms);
}
