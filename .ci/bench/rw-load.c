/* rw-load: Prometheus remote_write 1.0 load over HTTP/1.1 keep-alive.
 *
 * Builds every request before the clock starts (protobuf WriteRequest
 * encoded here, independently of tally's encoder, then snappy from the
 * system's libsnappy), then sends them flat out over C connections, one
 * thread each, and prints one JSON line: samples sent, seconds, samples/s,
 * and the count of answers by status.
 *
 * Connection c owns its own series (instance="host-c"), and sends its
 * requests in timestamp order, so a receiver that refuses out-of-order
 * samples refuses none. Request k of a connection holds one sample of each
 * of its S series at time T0 + k*STEP (milliseconds).
 *
 *   cc -O2 -o .build/bench/rw-load .ci/bench/rw-load.c -lsnappy -lpthread
 * With -N every request names new series (the series label counts on
 * across requests), so no receiver can recognise a series it saw before.
 *
 *   rw-load -p PORT [-P /api/v1/write] [-c 4] [-s 2000] [-n 500] [-t T0] [-i 10000] [-N]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct { uint8_t *p; size_t n, cap; } buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void varint(buf *b, uint64_t v) {
    uint8_t t[10]; int i = 0;
    while (v >= 0x80) { t[i++] = (uint8_t)(v | 0x80); v >>= 7; }
    t[i++] = (uint8_t)v;
    put(b, t, i);
}
static int vsize(uint64_t v) { int n = 1; while (v >= 0x80) { v >>= 7; n++; } return n; }
static void lenfield(buf *b, int field, const void *p, size_t n) { varint(b, (uint64_t)field << 3 | 2); varint(b, n); put(b, p, n); }

/* One Label message into b. */
static void label(buf *b, const char *name, const char *value) {
    size_t nn = strlen(name), vn = strlen(value);
    size_t size = 1 + vsize(nn) + nn + 1 + vsize(vn) + vn;
    varint(b, 1 << 3 | 2); varint(b, size);
    lenfield(b, 1, name, nn); lenfield(b, 2, value, vn);
}

typedef struct {
    int port, index, requests;
    const char *path;
    uint8_t **bodies; size_t *sizes;
    long ok, other; long first_status_other;
    double seconds;
} conn;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static int readn_response(int fd, int *status) {
    /* Reads a whole response: headers, then Content-Length bytes (the
       sender waits for each answer, so nothing of the next one arrives). */
    char h[16384]; size_t n = 0;
    char *end = NULL;
    while (!end) {
        if (n == sizeof h - 1) return -1;
        ssize_t r = read(fd, h + n, sizeof h - 1 - n);
        if (r <= 0) return -1;
        n += r;
        h[n] = 0;
        end = strstr(h, "\r\n\r\n");
    }
    *status = atoi(h + 9);
    long length = 0;
    char *cl = strcasestr(h, "content-length:");
    if (cl && cl < end) length = atol(cl + 15);
    length -= (long)(n - (end + 4 - h));
    char skip[4096];
    while (length > 0) {
        ssize_t r = read(fd, skip, length > (long)sizeof skip ? sizeof skip : (size_t)length);
        if (r <= 0) return -1;
        length -= r;
    }
    return 0;
}

static void *run(void *arg) {
    conn *c = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(c->port); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double start = now();
    for (int k = 0; k < c->requests; k++) {
        char head[512];
        int hn = snprintf(head, sizeof head,
            "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
            "Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\nUser-Agent: rw-load\r\n"
            "Content-Length: %zu\r\n\r\n", c->path, c->sizes[k]);
        if (write(fd, head, hn) != hn) { perror("write"); exit(1); }
        size_t off = 0;
        while (off < c->sizes[k]) {
            ssize_t w = write(fd, c->bodies[k] + off, c->sizes[k] - off);
            if (w <= 0) { perror("write"); exit(1); }
            off += w;
        }
        int status = 0;
        if (readn_response(fd, &status) != 0) { fprintf(stderr, "connection %d: no answer to request %d\n", c->index, k); exit(1); }
        if (status >= 200 && status < 300) c->ok++; else { c->other++; if (!c->first_status_other) c->first_status_other = status; }
    }
    c->seconds = now() - start;
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    int port = 0, conns = 4, series = 2000, requests = 500, fresh = 0;
    long step = 10000;
    struct timeval tv; gettimeofday(&tv, NULL);
    long long t0 = ((long long)tv.tv_sec - 7200) * 1000;
    const char *path = "/api/v1/write";
    int opt;
    while ((opt = getopt(argc, argv, "p:P:c:s:n:t:i:N")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'P': path = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 's': series = atoi(optarg); break;
        case 'n': requests = atoi(optarg); break;
        case 't': t0 = atoll(optarg); break;
        case 'i': step = atol(optarg); break;
        case 'N': fresh = 1; break;
        default: fprintf(stderr, "usage: rw-load -p PORT [-P PATH] [-c CONNS] [-s SERIES] [-n REQUESTS] [-t T0_MS] [-i STEP_MS] [-N]\n"); return 2;
        }
    }
    if (!port) { fprintf(stderr, "rw-load: -p PORT is required\n"); return 2; }
    conn *cs = calloc(conns, sizeof *cs);
    size_t raw_total = 0, compressed_total = 0;
    for (int c = 0; c < conns; c++) {
        cs[c] = (conn){.port = port, .index = c, .requests = requests, .path = path};
        cs[c].bodies = calloc(requests, sizeof(uint8_t *));
        cs[c].sizes = calloc(requests, sizeof(size_t));
        buf req = {0}, ser = {0};
        for (int k = 0; k < requests; k++) {
            req.n = 0;
            for (int j = 0; j < series; j++) {
                char name[32], inst[32], mode[16], id[24];
                snprintf(name, sizeof name, "rw_bench_%d", j % 20);
                snprintf(inst, sizeof inst, "host-%d:9100", c);
                snprintf(mode, sizeof mode, "m%d", j % 8);
                snprintf(id, sizeof id, "%ld", fresh ? (long)k * series + j : (long)j);
                ser.n = 0;
                label(&ser, "__name__", name); label(&ser, "instance", inst); label(&ser, "job", "node");
                label(&ser, "mode", mode); label(&ser, "series", id);
                /* Sample: value (fixed64) then timestamp (varint). */
                double value = j + k * 0.25;
                uint64_t ts = (uint64_t)(t0 + (long long)k * step);
                uint8_t sample[32]; size_t sn = 0;
                sample[sn++] = 1 << 3 | 1; memcpy(sample + sn, &value, 8); sn += 8;
                sample[sn++] = 2 << 3 | 0;
                { buf t = {0}; varint(&t, ts); memcpy(sample + sn, t.p, t.n); sn += t.n; free(t.p); }
                lenfield(&ser, 2, sample, sn);
                lenfield(&req, 1, ser.p, ser.n);
            }
            size_t max = snappy_max_compressed_length(req.n);
            uint8_t *out = malloc(max);
            size_t outn = max;
            if (snappy_compress((const char *)req.p, req.n, (char *)out, &outn) != SNAPPY_OK) { fprintf(stderr, "snappy failed\n"); return 1; }
            cs[c].bodies[k] = out; cs[c].sizes[k] = outn;
            raw_total += req.n; compressed_total += outn;
        }
        free(req.p); free(ser.p);
    }
    pthread_t *threads = calloc(conns, sizeof *threads);
    double start = now();
    for (int c = 0; c < conns; c++) pthread_create(&threads[c], NULL, run, &cs[c]);
    long ok = 0, other = 0, first_other = 0;
    for (int c = 0; c < conns; c++) {
        pthread_join(threads[c], NULL);
        ok += cs[c].ok; other += cs[c].other;
        if (!first_other) first_other = cs[c].first_status_other;
    }
    double seconds = now() - start;
    long long samples = (long long)conns * requests * series;
    printf("{\"samples\": %lld, \"requests\": %ld, \"seconds\": %.3f, \"samples_per_second\": %.0f, "
           "\"ok\": %ld, \"other\": %ld, \"first_other_status\": %ld, \"raw_bytes_per_request\": %zu, "
           "\"compressed_bytes_per_request\": %zu, \"first_ms\": %lld, \"last_ms\": %lld}\n",
           samples, ok + other, seconds, samples / seconds, ok, other, first_other,
           raw_total / (conns * requests), compressed_total / (conns * requests), t0, t0 + (long long)(requests - 1) * step);
    return other ? 1 : 0;
}
