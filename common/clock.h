/* clock.h: monotonic and wall clocks. */
#ifndef RF_CLOCK_H
#define RF_CLOCK_H

#include <stdint.h>

/* Monotonic, for timeouts and latency. */
uint64_t rf_clock_mono_ns(void);
uint64_t rf_clock_mono_ms(void);
/* Wall clock, milliseconds since the Unix epoch (Kafka timestamps). */
int64_t rf_clock_wall_ms(void);
/* Format wall-clock ms as 2026-11-23T23:20:11.123Z into out (>= 32 bytes). */
void rf_clock_format_iso(int64_t wall_ms, char *out, unsigned long outsz);

#endif
