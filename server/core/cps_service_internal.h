/**
 * @file cps_service_internal.h
 * @brief Private layout of ::cps_service and helpers shared by the core's .c files.
 */
#ifndef CPS_SERVICE_INTERNAL_H
#define CPS_SERVICE_INTERNAL_H

#include <sqlite3.h>

#include "cps_service.h"

struct cps_service {
  cps_service_config cfg; /* strings point at the copies below */
  cps_store *store;
  char *db_path;
  char *id_scope;
  char *namespace_name;
};

/** @brief The store's connection. */
sqlite3 *cps_service_db(cps_service *svc);

#endif
