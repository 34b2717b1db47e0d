/**
 * @file certpilot.h
 * @brief Umbrella header: everything public in the certpilot SDK.
 */
#ifndef CERTPILOT_CERTPILOT_H
#define CERTPILOT_CERTPILOT_H

#include "cp_result.h"
#include "cp_log.h"
#include "cp_platform.h"
#include "cp_encoding.h"
#include "cp_key.h"
#include "cp_csr.h"
#include "cp_x509.h"
#include "cp_sas.h"
#include "cp_protocol.h"
#include "cp_error.h"
#include "cp_provisioning.h"
#include "cp_hub.h"
#include "cp_transport.h"

#endif
