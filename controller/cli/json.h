/* json.h: a tiny streaming JSON emitter (compact output, proper string
 * escaping) for the riffle CLI's --json mode. */
#ifndef RF_JSON_H
#define RF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RF_JSON_MAX_DEPTH 32

/* Writes into a borrowed growable writer. Values inside an object must be
 * preceded by rf_json_key(); the emitter inserts commas. Nesting deeper than
 * RF_JSON_MAX_DEPTH is a programming error (assert). */
struct rf_json {
    struct rf_wr *wr; /* borrowed */
    int depth;
    bool need_comma[RF_JSON_MAX_DEPTH + 1];
    bool after_key;
};

void rf_json_init(struct rf_json *j, struct rf_wr *wr);
void rf_json_obj_begin(struct rf_json *j);
void rf_json_obj_end(struct rf_json *j);
void rf_json_arr_begin(struct rf_json *j);
void rf_json_arr_end(struct rf_json *j);
void rf_json_key(struct rf_json *j, const char *key);
/* s may be NULL (emitted as ""). Invalid UTF-8 becomes U+FFFD. */
void rf_json_str(struct rf_json *j, const char *s);
void rf_json_strn(struct rf_json *j, const char *s, size_t n);
void rf_json_int(struct rf_json *j, int64_t v);
void rf_json_uint(struct rf_json *j, uint64_t v);
void rf_json_bool(struct rf_json *j, bool v);
void rf_json_null(struct rf_json *j);

/* Append s[0..n) as a quoted, escaped JSON string to wr. */
void rf_json_escape(struct rf_wr *wr, const char *s, size_t n);

#endif
