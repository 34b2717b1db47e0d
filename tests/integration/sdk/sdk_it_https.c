/* In-process HTTPS DPS front end for the SDK integration tests (see sdk_it_https.h). */
#include "sdk_it_https.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cps_http.h"

/* The HTTPS DPS front end, on its own service and event-loop thread. */
static struct {
  cps_service *svc;
  struct event_base *base;
  struct event *tick;
  cps_http *http;
  pthread_t thread;
  atomic_bool stop;
  int port;
} https;

static void https_tick(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  (void)arg;
  if (atomic_load(&https.stop))
    event_base_loopexit(https.base, NULL);
}

static void *https_loop(void *arg)
{
  (void)arg;
  event_base_dispatch(https.base);
  return NULL;
}

int sdk_https_start(it_env *env_, int retry_after_s, int *port)
{
  struct timeval tv = {0, 100000};
  cps_service_config sc;
  cps_http_config hc;
  cps_error err = {{0}};

  cps_service_config_default(&sc);
  sc.db_path = env_->db;
  sc.dev_mode = true;
  sc.retry_after_s = retry_after_s;
  if (cps_service_open(&sc, &https.svc, &err) != CPS_OK)
    return -1;
  https.base = event_base_new();
  memset(&hc, 0, sizeof hc);
  hc.dps_addr = "127.0.0.1";
  hc.mgmt_addr = "127.0.0.1";
  hc.cert_file = env_->cert_file;
  hc.key_file = env_->key_file;
  hc.timeout_s = 10;
  if (https.base == NULL || cps_http_start(https.base, https.svc, &hc, &https.http, &err) != CPS_OK) {
    fprintf(stderr, "https front end: %s\n", err.msg);
    return -1;
  }
  *port = https.port = cps_http_dps_port(https.http);
  https.tick = event_new(https.base, -1, EV_PERSIST, https_tick, NULL);
  if (https.tick == NULL || event_add(https.tick, &tv) != 0)
    return -1;
  return pthread_create(&https.thread, NULL, https_loop, NULL) == 0 ? 0 : -1;
}

void sdk_https_stop(void)
{
  atomic_store(&https.stop, true);
  pthread_join(https.thread, NULL);
  event_free(https.tick);
  cps_http_free(https.http);
  event_base_free(https.base);
  cps_service_close(https.svc);
}

