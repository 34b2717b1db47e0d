/* Authenticated-client table of the mosquitto plugin. */
#include "hub_conn.h"

#include <stdlib.h>
#include <string.h>

static void conn_free(hub_conn *c) {
  if (c->password) {
    /* The SAS token is a credential: wipe it before freeing. */
    volatile char *p = c->password;
    while (*p) *p++ = '\0';
    free(c->password);
  }
  X509_free(c->cert);
  memset(c, 0, sizeof *c);
}

static void remove_at(hub_conn_table *t, size_t i) {
  conn_free(&t->items[i]);
  t->items[i] = t->items[t->count - 1];
  t->count--;
}

hub_conn *hub_conn_find(hub_conn_table *t, const void *client) {
  if (!t) return NULL;
  for (size_t i = 0; i < t->count; i++)
    if (t->items[i].client == client) return &t->items[i];
  return NULL;
}

void hub_conn_remove(hub_conn_table *t, const void *client) {
  if (!t) return;
  for (size_t i = 0; i < t->count; i++)
    if (t->items[i].client == client) {
      remove_at(t, i);
      return;
    }
}

hub_conn *hub_conn_put(hub_conn_table *t, const void *client, const hub_username *who,
                       char *password, X509 *cert) {
  hub_conn fresh = {.client = client, .who = *who, .password = password, .cert = cert};
  if (!t) {
    conn_free(&fresh);
    return NULL;
  }
  hub_conn_remove(t, client);
  if (who->kind == HUB_CLIENT_HUB) {
    for (size_t i = 0; i < t->count;) {
      if (t->items[i].who.kind == HUB_CLIENT_HUB && strcmp(t->items[i].who.id, who->id) == 0)
        remove_at(t, i);
      else
        i++;
    }
  }
  if (t->count == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    hub_conn *n = realloc(t->items, cap * sizeof *n);
    if (!n) {
      conn_free(&fresh);
      return NULL;
    }
    t->items = n;
    t->cap = cap;
  }
  t->items[t->count] = fresh;
  return &t->items[t->count++];
}

void hub_conn_table_clear(hub_conn_table *t) {
  if (!t) return;
  while (t->count) remove_at(t, t->count - 1);
  free(t->items);
  memset(t, 0, sizeof *t);
}
