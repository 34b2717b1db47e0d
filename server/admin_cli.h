/**
 * @file admin_cli.h
 * @brief `certpilot-server admin …`: a thin client of the management API (libcurl).
 */
#ifndef CERTPILOT_ADMIN_CLI_H
#define CERTPILOT_ADMIN_CLI_H

/**
 * @brief Run the admin command line (argv[0] is "admin").
 * @return process exit status: 0 on a 2xx reply, 1 on an error reply or transport failure,
 *         2 on a usage error.
 */
int admin_cli_main(int argc, char **argv);

#endif
