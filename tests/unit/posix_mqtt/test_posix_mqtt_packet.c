/* MQTT 3.1.1 packet codec of the POSIX MQTT transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cp_posix_mqtt_link.h"

static void test_mq_put_connect_with_credentials_exact_bytes(void **state)
{
  static const uint8_t want[] = {
    0x10, 22,                                /* CONNECT, remaining length */
    0, 4, 'M', 'Q', 'T', 'T', 4,             /* protocol name, level 3.1.1 */
    0xC2,                                    /* user name, password, clean session */
    0, 60,                                   /* keepalive */
    0, 2, 'i', 'd', 0, 1, 'u', 0, 3, 'p', 'w', 'd',
  };
  mq_buf b = {0};

  (void)state;
  assert_int_equal(mq_put_connect(&b, "id", "u", "pwd", 60), 0);
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.p, want, sizeof want);
  mq_buf_free(&b);
}

static void test_mq_put_connect_without_username_omits_both_flags(void **state)
{
  mq_buf b = {0};

  (void)state;
  assert_int_equal(mq_put_connect(&b, "dev", NULL, "ignored", 30), 0);
  assert_int_equal(b.p[9], 0x02); /* clean session only: no password without user name */
  assert_int_equal(b.len, 2 + 10 + 2 + 3);
  mq_buf_free(&b);
}

static void test_mq_put_subscribe_qos1_exact_bytes(void **state)
{
  static const uint8_t want[] = {0x82, 8, 0x12, 0x34, 0, 3, 'a', '/', '#', 1};
  mq_buf b = {0};

  (void)state;
  assert_int_equal(mq_put_subscribe(&b, 0x1234, "a/#", 1), 0);
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.p, want, sizeof want);
  mq_buf_free(&b);
}

static void test_mq_publish_large_payload_roundtrip_multibyte_length(void **state)
{
  static uint8_t payload[20000];
  mq_buf b = {0};
  mq_packet pk;
  mq_publish pub;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)(i * 7);
  assert_int_equal(mq_put_publish(&b, "t/x", payload, sizeof payload, 1, 77), 0);
  /* 2 + 3 + 2 + 20000 = 20007 = 0xA7 0x9C 0x01 */
  assert_int_equal(b.p[0], 0x32);
  assert_int_equal(b.p[1], 0xA7);
  assert_int_equal(b.p[2], 0x9C);
  assert_int_equal(b.p[3], 0x01);
  assert_int_equal(mq_packet_parse(b.p, b.len, &pk), (long)b.len);
  assert_int_equal(pk.type, MQ_PUBLISH);
  assert_int_equal(mq_publish_parse(&pk, &pub), 0);
  assert_int_equal(pub.qos, 1);
  assert_int_equal(pub.id, 77);
  assert_int_equal(pub.topic_len, 3);
  assert_memory_equal(pub.topic, "t/x", 3);
  assert_int_equal(pub.payload_len, sizeof payload);
  assert_memory_equal(pub.payload, payload, sizeof payload);
  mq_buf_free(&b);
}

static void test_mq_publish_qos0_empty_payload_has_no_packet_id(void **state)
{
  mq_buf b = {0};
  mq_packet pk;
  mq_publish pub;

  (void)state;
  assert_int_equal(mq_put_publish(&b, "t", NULL, 0, 0, 99), 0);
  assert_int_equal(b.len, 2 + 2 + 1);
  assert_int_equal(mq_packet_parse(b.p, b.len, &pk), 5);
  assert_int_equal(mq_publish_parse(&pk, &pub), 0);
  assert_int_equal(pub.qos, 0);
  assert_int_equal(pub.id, 0);
  assert_int_equal(pub.payload_len, 0);
  mq_buf_free(&b);
}

static void test_mq_packet_parse_incomplete_returns_zero(void **state)
{
  static const uint8_t suback[] = {0x90, 3, 0, 1, 1};
  static const uint8_t long_len[] = {0x30, 0x80};
  mq_packet pk;
  size_t n;

  (void)state;
  for (n = 0; n < sizeof suback; n++)
    assert_int_equal(mq_packet_parse(suback, n, &pk), 0);
  assert_int_equal(mq_packet_parse(suback, sizeof suback, &pk), 5);
  assert_int_equal(pk.type, MQ_SUBACK);
  assert_int_equal(pk.body_len, 3);
  assert_int_equal(mq_packet_parse(long_len, sizeof long_len, &pk), 0);
}

static void test_mq_packet_parse_five_length_bytes_malformed(void **state)
{
  static const uint8_t bad[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0};
  mq_packet pk;

  (void)state;
  assert_int_equal(mq_packet_parse(bad, sizeof bad, &pk), -1);
}

static void test_mq_publish_parse_topic_past_end_malformed(void **state)
{
  static const uint8_t bad[] = {0x30, 4, 0, 9, 'a', 'b'};
  static const uint8_t qos3[] = {0x36, 3, 0, 1, 'a'};
  mq_packet pk;
  mq_publish pub;

  (void)state;
  assert_int_equal(mq_packet_parse(bad, sizeof bad, &pk), (long)sizeof bad);
  assert_int_equal(mq_publish_parse(&pk, &pub), -1);
  assert_int_equal(mq_packet_parse(qos3, sizeof qos3, &pk), (long)sizeof qos3);
  assert_int_equal(mq_publish_parse(&pk, &pub), -1);
}

static void test_mq_put_ack_and_empty_exact_bytes(void **state)
{
  static const uint8_t want[] = {0x40, 2, 0x01, 0x02, 0xC0, 0, 0xE0, 0};
  mq_buf b = {0};

  (void)state;
  assert_int_equal(mq_put_ack(&b, MQ_PUBACK, 0x0102), 0);
  assert_int_equal(mq_put_empty(&b, MQ_PINGREQ), 0);
  assert_int_equal(mq_put_empty(&b, MQ_DISCONNECT), 0);
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.p, want, sizeof want);
  mq_buf_free(&b);
}

static void test_mq_buf_append_past_limit_fails_and_keeps_content(void **state)
{
  mq_buf b = {0};

  (void)state;
  assert_int_equal(mq_buf_append(&b, "abc", 3), 0);
  assert_int_equal(mq_buf_append(&b, "x", MQ_BUF_LIMIT), -1);
  assert_int_equal(b.len, 3);
  mq_buf_consume(&b, 1);
  assert_memory_equal(b.p, "bc", 2);
  mq_buf_consume(&b, 10);
  assert_int_equal(b.len, 0);
  mq_buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mq_put_connect_with_credentials_exact_bytes),
    cmocka_unit_test(test_mq_put_connect_without_username_omits_both_flags),
    cmocka_unit_test(test_mq_put_subscribe_qos1_exact_bytes),
    cmocka_unit_test(test_mq_publish_large_payload_roundtrip_multibyte_length),
    cmocka_unit_test(test_mq_publish_qos0_empty_payload_has_no_packet_id),
    cmocka_unit_test(test_mq_packet_parse_incomplete_returns_zero),
    cmocka_unit_test(test_mq_packet_parse_five_length_bytes_malformed),
    cmocka_unit_test(test_mq_publish_parse_topic_past_end_malformed),
    cmocka_unit_test(test_mq_put_ack_and_empty_exact_bytes),
    cmocka_unit_test(test_mq_buf_append_past_limit_fails_and_keeps_content),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
