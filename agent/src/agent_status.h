/**
 * @file agent_status.h
 * @brief Observability: status.json in the run directory and a Prometheus
 *        textfile (node_exporter textfile collector format).
 */
#ifndef CERTPILOT_AGENT_STATUS_H
#define CERTPILOT_AGENT_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "agent_engine.h"

/**
 * @brief The status document of @p e at @p now, as JSON (heap string, caller frees with free()).
 *        NULL when out of memory.
 */
char *cpa_status_json(const cpa_engine *e, int64_t now);

/**
 * @brief The Prometheus textfile body of @p e at @p now into @p out.
 * @return CP_OK; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cpa_status_prometheus(const cpa_engine *e, int64_t now, char *out, size_t out_size);

/** @brief One line for systemd's STATUS= ("valid: serial …, renews in 3h"). */
void cpa_status_line(const cpa_engine *e, int64_t now, char *out, size_t out_size);

/**
 * @brief Write run_dir/status.json and the metrics file (when configured), each atomically.
 * @return CP_OK; CP_ERR_IO; CP_ERR_NO_MEMORY.
 */
cp_result cpa_status_write(const cpa_engine *e, int64_t now);

#endif
