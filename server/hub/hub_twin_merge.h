/**
 * @file hub_twin_merge.h
 * @brief Pure twin patch validation and merge on cJSON trees.
 */
#ifndef CERTPILOT_SERVER_HUB_TWIN_MERGE_H
#define CERTPILOT_SERVER_HUB_TWIN_MERGE_H

#include <cjson/cJSON.h>

#include "certpilot/cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Check that @p patch is an acceptable twin patch: a JSON object, no
 *        member name starting with `$`, nesting at most @p max_depth levels.
 * @return CP_OK; CP_ERR_INVALID_ARG for NULL; CP_ERR_PARSE otherwise.
 */
cp_result hub_twin_patch_check(const cJSON *patch, int max_depth);

/**
 * @brief Merge @p patch into @p target (both objects): a `null` member
 *        deletes, an object merges recursively into an object, any other
 *        value replaces. @p patch is not modified.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULLs, non-objects); CP_ERR_NO_MEMORY
 *         (target may then be partly merged: callers discard it).
 */
cp_result hub_twin_merge(cJSON *target, const cJSON *patch);

#ifdef __cplusplus
}
#endif
#endif
