/* Private cJSON helpers. */
#include "cp_json_util.h"

#include <stdlib.h>
#include <string.h>

#include "cp_str.h"

cJSON *cp_json_parse_object(const char *text, size_t len, cp_error_detail *detail)
{
  cJSON *root;

  if (text == NULL || len == 0) {
    cp_error_detail_set(detail, "", "body is empty, expected a JSON object");
    return NULL;
  }
  root = cJSON_ParseWithLength(text, len);
  if (root == NULL) {
    cp_error_detail_set(detail, "", "body is not JSON");
    return NULL;
  }
  if (!cJSON_IsObject(root)) {
    cp_error_detail_set(detail, "", "body is JSON but not an object");
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

cp_result cp_json_get_string(const cJSON *obj, const char *name, const char *path,
                             bool required, char *out, size_t out_size,
                             cp_error_detail *detail)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
  size_t len;

  if (item == NULL || cJSON_IsNull(item)) {
    if (required) {
      cp_error_detail_set(detail, path, "member \"%s\" is missing", path);
      return CP_ERR_BAD_RESPONSE;
    }
    out[0] = '\0';
    return CP_OK;
  }
  if (!cJSON_IsString(item) || item->valuestring == NULL) {
    cp_error_detail_set(detail, path, "member \"%s\" is not a string", path);
    return CP_ERR_BAD_RESPONSE;
  }
  len = strlen(item->valuestring);
  if (required && len == 0) {
    cp_error_detail_set(detail, path, "member \"%s\" is empty", path);
    return CP_ERR_BAD_RESPONSE;
  }
  if (len + 1 > out_size) {
    cp_error_detail_set(detail, path, "member \"%s\" is too long (%zu > %zu)", path,
                        len, out_size - 1);
    return CP_ERR_BAD_RESPONSE;
  }
  memcpy(out, item->valuestring, len + 1);
  return CP_OK;
}

cp_result cp_json_get_int(const cJSON *obj, const char *name, const char *path,
                          bool required, int64_t *out, bool *present,
                          cp_error_detail *detail)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
  double v;

  if (present != NULL)
    *present = false;
  if (item == NULL || cJSON_IsNull(item)) {
    if (required) {
      cp_error_detail_set(detail, path, "member \"%s\" is missing", path);
      return CP_ERR_BAD_RESPONSE;
    }
    *out = 0;
    return CP_OK;
  }
  if (!cJSON_IsNumber(item)) {
    cp_error_detail_set(detail, path, "member \"%s\" is not a number", path);
    return CP_ERR_BAD_RESPONSE;
  }
  v = item->valuedouble;
  if (!(v >= -9007199254740992.0 && v <= 9007199254740992.0) || (double)(int64_t)v != v) {
    cp_error_detail_set(detail, path, "member \"%s\" is not an integer", path);
    return CP_ERR_BAD_RESPONSE;
  }
  *out = (int64_t)v;
  if (present != NULL)
    *present = true;
  return CP_OK;
}

cp_result cp_json_print(const cJSON *item, char *out, size_t out_size, size_t *out_len)
{
  char *text = cJSON_PrintUnformatted(item);
  cp_result r;

  if (text == NULL)
    return CP_ERR_NO_MEMORY;
  r = cp_str_copy(out, out_size, out_len, text, strlen(text));
  cJSON_free(text);
  return r;
}
