/**
 * @file agent_state.h
 * @brief The state directory: generations of key + chain + metadata with a
 *        crash-safe switch.
 *
 * Layout of @c dir:
 *   gen-00000042/{key.pem (0600), chain.pem, meta.json}   one generation each
 *   current  -> gen-00000042   symlink, the generation in use
 *   previous -> gen-00000041   symlink, kept for roll-back and diagnosis
 *   .staging-<pid>/            being written; never read
 *
 * A commit writes into .staging-<pid>, fsyncs every file and the directory,
 * renames it to the next gen-N, fsyncs @c dir (cpa_state_stage), then replaces
 * "previous" and "current" by rename(2) of fresh symlinks and fsyncs @c dir again
 * (cpa_state_activate). rename(2) is atomic, so after a crash at any instant
 * "current" names a complete, fsynced generation: the old one or the new one.
 */
#ifndef CERTPILOT_AGENT_STATE_H
#define CERTPILOT_AGENT_STATE_H

#include <stddef.h>

#include "certpilot/cp_result.h"

#define CPA_KEY_PEM_MAX 4096
#define CPA_CHAIN_PEM_MAX 32768
#define CPA_META_MAX 4096
#define CPA_GEN_NAME_MAX 32

/** One generation's contents. Caller-owned (large: allocate it, do not stack it in loops). */
typedef struct cpa_generation {
  char name[CPA_GEN_NAME_MAX]; /**< "gen-00000042"; "" when not stored yet */
  char key_pem[CPA_KEY_PEM_MAX];
  size_t key_len;
  char chain_pem[CPA_CHAIN_PEM_MAX]; /**< leaf first, as issued */
  size_t chain_len;
  char meta_json[CPA_META_MAX];      /**< agent metadata (device id, hub, counters) */
  size_t meta_len;
} cpa_generation;

/**
 * @brief Checks that a key and chain belong together (key matches the leaf, the
 *        chain parses). Returns CP_OK when usable.
 */
typedef cp_result (*cpa_pair_check_fn)(void *ctx, const char *key_pem, size_t key_len,
                                       const char *chain_pem, size_t chain_len);

/**
 * @brief Create @p dir (0700) if missing and remove leftover staging folders.
 * @return CP_OK; CP_ERR_IO (errno text in @p err).
 */
cp_result cpa_state_init(const char *dir, char *err, size_t err_size);

/**
 * @brief Write @p gen's key, chain and metadata as a new complete generation,
 *        durable on disk but not yet current. Sets gen->name.
 * @return CP_OK; CP_ERR_IO (nothing visible changed; the staging folder is removed).
 */
cp_result cpa_state_stage(const char *dir, cpa_generation *gen, char *err, size_t err_size);

/**
 * @brief Make the staged generation @p name current; the old current becomes
 *        "previous"; generations that are neither are removed.
 * @return CP_OK; CP_ERR_IO; CP_ERR_NOT_FOUND (no such generation).
 */
cp_result cpa_state_activate(const char *dir, const char *name, char *err, size_t err_size);

/** @brief Remove a staged generation that will not be activated. */
cp_result cpa_state_discard(const char *dir, const char *name);

/** @brief cpa_state_stage() then cpa_state_activate(). */
cp_result cpa_state_commit(const char *dir, cpa_generation *gen, char *err, size_t err_size);

/**
 * @brief Load the generation to use: "current" if @p check accepts it, else
 *        "previous", else the newest gen-N that passes. Repairs "current" to
 *        point at the chosen one when it did not.
 * @param check may be NULL (then only presence of both files is required).
 * @return CP_OK (*out filled); CP_ERR_NOT_FOUND (no usable generation: first start);
 *         CP_ERR_IO.
 */
cp_result cpa_state_load(const char *dir, cpa_pair_check_fn check, void *ctx,
                         cpa_generation *out, char *err, size_t err_size);

/**
 * @brief Write @p len bytes to @p path atomically (temp file in the same
 *        directory, fsync, rename, fsync dir) with file mode @p mode.
 * @return CP_OK; CP_ERR_IO.
 */
cp_result cpa_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

#endif
