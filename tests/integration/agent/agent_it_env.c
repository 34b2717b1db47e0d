/* Integration environment for certpilotd (see agent_it_env.h). */
#include "agent_it_env.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hub_trust_core.h"
#include "hub_twin.h"

int ait_broker_restart(it_env *e) { return it_broker_restart(e); }

int ait_env_start(it_env *e, int short_s) {
  it_hub_name = AIT_HUB; /* the agent connects to the assigned hub by this name */
  if (it_env_start(e) != 0) return -1;
  char body[512];
  if (it_mgmt(e, "POST", "/credential", "{}", NULL) >= 300) return -1;
  snprintf(body, sizeof body, "{\"name\":\"short\",\"validitySeconds\":%d}", short_s);
  if (it_mgmt(e, "POST", "/policies", body, NULL) >= 300) return -1;
  if (it_mgmt(e, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300) return -1;
  if (it_mgmt(e, "POST", "/policies", "{\"name\":\"p2\",\"validityDays\":30}", NULL) >= 300) return -1;
  static const struct {
    const char *id, *key, *policy;
  } groups[] = {{"grp-short", AIT_GROUP_KEY_SHORT, "short"},
                {"grp-p1", AIT_GROUP_KEY, "p1"},
                {"grp-p2", AIT_GROUP_KEY_P2, "p2"}};
  for (size_t i = 0; i < 3; i++) {
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
             "\"primaryKey\":\"%s\",\"policy\":\"%s\",\"hub\":\"" AIT_HUB "\"}",
             groups[i].id, groups[i].key, groups[i].policy);
    if (it_mgmt(e, "POST", "/enrollments", body, NULL) >= 300) return -1;
  }
  return hub_broker_sync_trust(e->broker) == CP_OK ? 0 : -1;
}

void ait_agent_prepare(it_env *e, ait_agent *a, const char *regid, const char *group_key,
                       const char *extra_ini) {
  memset(a, 0, sizeof *a);
  snprintf(a->regid, sizeof a->regid, "%s", regid);
  snprintf(a->dir, sizeof a->dir, "%s/%s", e->dir, regid);
  snprintf(a->conf, sizeof a->conf, "%s/certpilotd.conf", a->dir);
  snprintf(a->log, sizeof a->log, "%s/certpilotd.log", a->dir);
  snprintf(a->status, sizeof a->status, "%s/run/status.json", a->dir);
  mkdir(a->dir, 0700);
  char p[512];
  snprintf(p, sizeof p, "%s/group.key", a->dir);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    if (write(fd, group_key, strlen(group_key)) < 0) perror("write key");
    close(fd);
  }
  FILE *f = fopen(a->conf, "w");
  if (!f) return;
  fprintf(f,
          "[provisioning]\nendpoint = 127.0.0.1\nport = %d\nid_scope = %s\nregistration_id = %s\n"
          "transport = mqtt\ntrust_bundle = %s\ntimeout = 8\n"
          "[hub]\nport = %d\n"
          "[onboarding]\nkind = symmetric-key\nsymmetric_key_file = %s\nsymmetric_key_is_group = true\n"
          "[renewal]\njitter = 0\nbackoff_initial = 1\nbackoff_max = 4\n"
          "backoff_time_left_fraction = 0.5\ndisabled_backoff = 1h\n"
          "[paths]\nstate_dir = %s/state\nrun_dir = %s/run\nmetrics_file = %s/run/certpilot.prom\n"
          "[log]\nlevel = debug\n%s",
          e->port_sas, e->id_scope, regid, e->server_ca, e->port_cert, p, a->dir, a->dir, a->dir,
          extra_ini ? extra_ini : "");
  fclose(f);
}

void ait_agent_start(ait_agent *a) {
  const char *bin = getenv("CP_BINARY_DIR");
  char exe[600];
  snprintf(exe, sizeof exe, "%s/agent/certpilotd", bin ? bin : ".");
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    unsetenv("NOTIFY_SOCKET");
    execl(exe, "certpilotd", "--config", a->conf, (char *)NULL);
    _exit(127);
  }
  a->pid = pid;
}

int ait_agent_stop(ait_agent *a) {
  if (a->pid <= 0) return -1;
  kill(a->pid, SIGTERM);
  for (int i = 0; i < 200; i++) {
    int st = 0;
    pid_t r = waitpid(a->pid, &st, WNOHANG);
    if (r == a->pid) {
      a->pid = 0;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    usleep(100000);
  }
  kill(a->pid, SIGKILL);
  waitpid(a->pid, NULL, 0);
  a->pid = 0;
  return -1;
}

char *ait_slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return calloc(1, 1);
  size_t cap = 1 << 20;
  char *buf = malloc(cap);
  size_t n = buf ? fread(buf, 1, cap - 1, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

cJSON *ait_status(const ait_agent *a) {
  char *s = ait_slurp(a->status);
  cJSON *o = s && s[0] ? cJSON_Parse(s) : NULL;
  free(s);
  return o;
}

static const cJSON *field(const cJSON *st, const char *name) {
  const char *dot = strchr(name, '.');
  if (!dot) return cJSON_GetObjectItemCaseSensitive(st, name);
  char head[64];
  snprintf(head, sizeof head, "%.*s", (int)(dot - name), name);
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, head), dot + 1);
}

double ait_status_num(const cJSON *st, const char *name) {
  const cJSON *v = field(st, name);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

const char *ait_status_str(const cJSON *st, const char *name) {
  const cJSON *v = field(st, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

bool ait_wait_num(const ait_agent *a, const char *name, double value, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 100) {
    cJSON *st = ait_status(a);
    bool ok = st && ait_status_num(st, name) >= value;
    cJSON_Delete(st);
    if (ok) return true;
    usleep(100000);
  }
  return false;
}

bool ait_wait_str(const ait_agent *a, const char *name, const char *value, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 100) {
    cJSON *st = ait_status(a);
    bool ok = st && strcmp(ait_status_str(st, name), value) == 0;
    cJSON_Delete(st);
    if (ok) return true;
    usleep(100000);
  }
  return false;
}

char *ait_twin_certificate(it_env *e, const char *device) {
  hub_twin_store *store = NULL;
  if (hub_twin_store_open(e->db, &store) != CP_OK) return NULL;
  char *json = NULL, *out = NULL;
  if (hub_twin_get(store, device, &json) == CP_OK && json) {
    cJSON *o = cJSON_Parse(json);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, "reported"), "certificate");
    if (c) out = cJSON_PrintUnformatted(c);
    cJSON_Delete(o);
  }
  free(json);
  hub_twin_store_close(store);
  return out;
}
