/* Twin patch validation and recursive merge (null deletes). */
#include "hub_twin_merge.h"

static cp_result check(const cJSON *node, int depth, int max_depth) {
  if (depth > max_depth) return CP_ERR_PARSE;
  for (const cJSON *c = node->child; c; c = c->next) {
    if (!c->string || c->string[0] == '\0' || c->string[0] == '$') return CP_ERR_PARSE;
    if (cJSON_IsObject(c)) {
      cp_result r = check(c, depth + 1, max_depth);
      if (r != CP_OK) return r;
    }
  }
  return CP_OK;
}

cp_result hub_twin_patch_check(const cJSON *patch, int max_depth) {
  if (!patch) return CP_ERR_INVALID_ARG;
  if (!cJSON_IsObject(patch)) return CP_ERR_PARSE;
  return check(patch, 1, max_depth);
}

cp_result hub_twin_merge(cJSON *target, const cJSON *patch) {
  if (!target || !patch || !cJSON_IsObject(target) || !cJSON_IsObject(patch))
    return CP_ERR_INVALID_ARG;
  for (const cJSON *p = patch->child; p; p = p->next) {
    if (!p->string) continue;
    if (cJSON_IsNull(p)) {
      cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
      continue;
    }
    cJSON *existing = cJSON_GetObjectItemCaseSensitive(target, p->string);
    if (cJSON_IsObject(p) && cJSON_IsObject(existing)) {
      cp_result r = hub_twin_merge(existing, p);
      if (r != CP_OK) return r;
      continue;
    }
    cJSON *copy;
    if (cJSON_IsObject(p)) {
      /* A fresh object: merge into an empty one so nested nulls vanish. */
      copy = cJSON_CreateObject();
      if (!copy) return CP_ERR_NO_MEMORY;
      cp_result r = hub_twin_merge(copy, p);
      if (r != CP_OK) {
        cJSON_Delete(copy);
        return r;
      }
    } else {
      copy = cJSON_Duplicate(p, 1);
      if (!copy) return CP_ERR_NO_MEMORY;
    }
    if (existing) {
      if (!cJSON_ReplaceItemInObjectCaseSensitive(target, p->string, copy)) {
        cJSON_Delete(copy);
        return CP_ERR_NO_MEMORY;
      }
    } else if (!cJSON_AddItemToObject(target, p->string, copy)) {
      cJSON_Delete(copy);
      return CP_ERR_NO_MEMORY;
    }
  }
  return CP_OK;
}
