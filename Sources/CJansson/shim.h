#include <jansson.h>
static inline json_type cj_typeof(const json_t *j) { return j ? json_typeof(j) : JSON_NULL; }
static inline json_t *cj_loadb(const char *buf, size_t len, size_t flags, json_error_t *err) {
  return json_loadb(buf, len, flags, err);
}
static inline void cj_decref(json_t *j) { json_decref(j); }
