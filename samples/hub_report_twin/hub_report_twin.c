/*
 * hub_report_twin: connect to the hub with the issued chain + key, read the
 * twin, report the §13.7 "certificate" property for the leaf, read it back,
 * optionally wait for desired-property patches, and disconnect.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_hub.h"
#include "certpilot/cp_hub_client.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_x509.h"
#include "sample_common.h"

static void usage(FILE *out)
{
  fprintf(out,
    "usage: hub_report_twin --hub H[:P] --device-id D --cert F --key F [options]\n"
    "Connect to the hub with the operational certificate, GET the twin, PATCH the\n"
    "reported \"certificate\" property, GET it back, and disconnect.\n\n"
    "  --hub H[:P]           assigned hub (as provisioning returned it)\n"
    "  --port P              port (default: from --hub, else 8883 / 443 with --wss)\n"
    "  --wss                 MQTT over WebSockets instead of MQTT over TLS\n"
    "  --device-id D         device id\n"
    "  --cert F              PEM chain from provisioning (leaf first)\n"
    "  --key F               PEM key of the leaf\n"
    "  --trust-bundle F      PEM CA file to verify the hub (default: system store)\n"
    "  --watch-s N           then print desired-property patches for N seconds\n"
    "  --help                this text\n");
}

static void on_desired(void *ctx, int64_t version, const char *json, size_t len)
{
  (void)ctx;
  printf("desired patch, $version %lld: %.*s\n", (long long)version, (int)len, json);
}

/* The §13.7 report body for the leaf (first certificate) in @p chain_path. */
static cp_result report_body(const char *chain_path, char *body, size_t size)
{
  static char pem[32 * 1024];
  static cp_cert_info leaf;
  cp_hub_certificate_report rep;
  size_t n, len;
  FILE *f = fopen(chain_path, "rb");
  cp_result r;

  if (f == NULL)
    return CP_ERR_IO;
  n = fread(pem, 1, sizeof pem - 1, f);
  fclose(f);
  pem[n] = '\0';
  r = cp_cert_parse((const uint8_t *)pem, n, &leaf);
  if (r == CP_OK)
    r = cp_hub_certificate_report_from_cert(&leaf, cp_platform_time_now(), 0, NULL, &rep);
  if (r == CP_OK)
    r = cp_hub_certificate_report_body(&rep, body, size, &len);
  return r;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"hub", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"wss", 0, 0, 'w'}, {"device-id", 1, 0, 'd'},
    {"cert", 1, 0, 'C'}, {"key", 1, 0, 'k'}, {"trust-bundle", 1, 0, 'c'},
    {"watch-s", 1, 0, 'W'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0},
  };
  static cp_hub_client client; /* large */
  static char twin_json[64 * 1024];
  char body[CP_HUB_REPORT_BODY_MAX];
  cp_hub_client_config cfg;
  cp_error_detail err;
  cp_hub_twin twin;
  unsigned watch_s = 0;
  int64_t version = 0;
  size_t len;
  cp_result r;
  int c;

  memset(&cfg, 0, sizeof cfg);
  cfg.wire = CP_MQTT_WIRE_TLS;
  cfg.on_desired = on_desired;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'h': cfg.host = optarg; break;
    case 'p': cfg.port = (uint16_t)atoi(optarg); break;
    case 'w': cfg.wire = CP_MQTT_WIRE_WSS; break;
    case 'd': cfg.device_id = optarg; break;
    case 'C': cfg.cert_chain_path = optarg; break;
    case 'k': cfg.key_path = optarg; break;
    case 'c': cfg.trust_bundle_path = optarg; break;
    case 'W': watch_s = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'H': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (cfg.host == NULL || cfg.device_id == NULL || cfg.cert_chain_path == NULL ||
      cfg.key_path == NULL) {
    usage(stderr);
    return 2;
  }
  cp_error_detail_clear(&err);
  r = report_body(cfg.cert_chain_path, body, sizeof body);
  if (r != CP_OK) {
    fprintf(stderr, "cannot read the leaf in %s: %s\n", cfg.cert_chain_path, cp_result_str(r));
    return 1;
  }
  printf("connecting to %s as %s ...\n", cfg.host, cfg.device_id);
  r = cp_hub_client_connect(&client, &cfg, &err);
  if (r != CP_OK) {
    sample_print_error("hub connect", r, &err);
    return 1;
  }
  r = cp_hub_client_get_twin(&client, twin_json, sizeof twin_json, &len, &err);
  if (r == CP_OK)
    printf("twin: %s\n", twin_json);
  if (r == CP_OK) {
    printf("reporting: %s\n", body);
    r = cp_hub_client_report(&client, body, &version, &err);
  }
  if (r == CP_OK)
    printf("reported $version %lld\n", (long long)version);
  if (r == CP_OK)
    r = cp_hub_client_get_twin(&client, twin_json, sizeof twin_json, &len, &err);
  if (r == CP_OK) {
    r = cp_hub_twin_parse(twin_json, len, &twin, &err);
    if (r == CP_OK && twin.has_certificate)
      printf("twin reports certificate valid until %s (serial %s)\n",
             twin.certificate.valid_until, twin.certificate.serial_number);
  }
  if (r == CP_OK && watch_s > 0) {
    printf("watching desired properties for %u s ...\n", watch_s);
    r = cp_hub_client_poll(&client, watch_s * 1000u, &err);
  }
  cp_hub_client_disconnect(&client);
  if (r != CP_OK) {
    sample_print_error("twin", r, &err);
    return 1;
  }
  return 0;
}
