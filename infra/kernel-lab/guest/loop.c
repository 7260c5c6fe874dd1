/*
 * lab-loop: the kernel lab client's request loop (client.ts, loopStart), in C. Under TCG the
 * guest's two emulated CPUs are what bounds the lab's request rate, and the Node loop spent about
 * 14 ms of them per request; this one makes the same requests with a fraction of that.
 *
 *   lab-loop ADDRESS PORT HOST PATH LOCAL|- WORKERS TIMEOUT_MS INTERVAL_MS
 *
 * WORKERS threads each make one HTTP/1.1 GET at a time on a fresh connection (no keep-alive: IPVS
 * schedules every request), from LOCAL when given. A request is ok when the answer is a 200 whose
 * body has the length its content-length says; the body (trimmed) names the real server. TIMEOUT_MS
 * bounds the connect and each wait for data, as the Node socket's idle timeout did.
 *
 * stdin, one letter a line: `m` prints {"ok","fail","sinceMark"} and starts a new mark; `s` stops
 * the workers, prints the whole result as JSON (the fields client.ts's loopStop returns), exits.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 32
#define MAX_ERRORS 5
#define NAME_LEN 64
#define ERR_LEN 160
#define LINE_LEN 200 /* an error line: its time, then why */

static struct sockaddr_storage dst, src;
static socklen_t dst_len, src_len;
static int has_src, family;
static char request[512];
static int timeout_ms, interval_ms;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int stopping;
static long ok_count, fail_count;
static double started_ms, last_ok_ms, longest_gap_ms;
static int n_servers;
static char server_names[MAX_SERVERS][NAME_LEN];
static long server_total[MAX_SERVERS], server_mark[MAX_SERVERS];
static int n_errors;
static char errors[MAX_ERRORS][LINE_LEN];

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/** The errno's name as Node spells a socket error's code (ECONNREFUSED …), else its text. */
static const char *code_of(int e) {
  switch (e) {
  case ECONNREFUSED: return "ECONNREFUSED";
  case ECONNRESET: return "ECONNRESET";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case ENETUNREACH: return "ENETUNREACH";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EPIPE: return "EPIPE";
  default: return strerror(e);
  }
}

/** One GET. 1 and the server's name in `name` when ok; 0 and why in `why` (with the client port) when not. */
static int get(char *name, char *why) {
  int port = 0, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return snprintf(why, ERR_LEN, "socket %s (not connected)", code_of(errno)), 0;
  if (has_src && bind(fd, (struct sockaddr *)&src, src_len) < 0) {
    snprintf(why, ERR_LEN, "bind %s (not connected)", code_of(errno));
    close(fd);
    return 0;
  }
  if (connect(fd, (struct sockaddr *)&dst, dst_len) < 0 && errno != EINPROGRESS) {
    snprintf(why, ERR_LEN, "connect %s (not connected)", code_of(errno));
    close(fd);
    return 0;
  }
  struct sockaddr_storage me;
  socklen_t me_len = sizeof me;
  if (getsockname(fd, (struct sockaddr *)&me, &me_len) == 0)
    port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port : ((struct sockaddr_in *)&me)->sin_port);
  struct pollfd p = {fd, POLLOUT, 0};
  int r = poll(&p, 1, timeout_ms), err = 0;
  socklen_t el = sizeof err;
  if (r == 0) {
    /* No SYN-ACK in time (the SYN and its retransmits lost): told apart from a silent server. */
    snprintf(why, ERR_LEN, "connect timeout (port %d)", port);
    close(fd);
    return 0;
  }
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (r < 0 || err) {
    snprintf(why, ERR_LEN, "connect %s (port %d)", code_of(r < 0 ? errno : err), port);
    close(fd);
    return 0;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  size_t len = strlen(request);
  if (send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
    snprintf(why, ERR_LEN, "write %s (port %d)", code_of(errno), port);
    close(fd);
    return 0;
  }
  char buf[8192], rest[4096];
  size_t have = 0;
  long extra = 0; /* bytes beyond what buf keeps (a body larger than the lab's names) */
  for (;;) {
    ssize_t n = have < sizeof buf - 1 ? recv(fd, buf + have, sizeof buf - 1 - have, 0) : recv(fd, rest, sizeof rest, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (have + extra) snprintf(why, ERR_LEN, "timeout after %ld bytes (port %d)", (long)have + extra, port);
        else snprintf(why, ERR_LEN, "timeout (port %d)", port);
      }
      else snprintf(why, ERR_LEN, "read %s (port %d)", code_of(errno), port);
      close(fd);
      return 0;
    }
    if (have < sizeof buf - 1) have += n;
    else extra += n;
  }
  close(fd);
  buf[have] = 0;
  char *end = strstr(buf, "\r\n\r\n");
  if (!end) return snprintf(why, ERR_LEN, "socket hang up (port %d)", port), 0;
  *end = 0;
  char *body = end + 4;
  long body_len = (long)(buf + have - body) + extra;
  int status = 0;
  if (sscanf(buf, "HTTP/1.%*1[01] %d", &status) != 1) status = 0;
  char *cl = strcasestr(buf, "\r\ncontent-length:");
  if (cl && atol(cl + 17) != body_len) return snprintf(why, ERR_LEN, "body of %ld bytes, content-length %ld (port %d)", body_len, atol(cl + 17), port), 0;
  if (status != 200) return snprintf(why, ERR_LEN, "status %d (port %d)", status, port), 0;
  while (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t') body++;
  size_t bl = strcspn(body, "\r\n");
  if (bl >= NAME_LEN) bl = NAME_LEN - 1;
  memcpy(name, body, bl);
  name[bl] = 0;
  while (bl > 0 && (name[bl - 1] == ' ' || name[bl - 1] == '\t')) name[--bl] = 0;
  return 1;
}

static void record(int ok, const char *name, const char *why, double at) {
  pthread_mutex_lock(&mu);
  if (ok) {
    if (at - last_ok_ms > longest_gap_ms) longest_gap_ms = at - last_ok_ms;
    last_ok_ms = at;
    ok_count++;
    int i = 0;
    while (i < n_servers && strcmp(server_names[i], name) != 0) i++;
    if (i == n_servers && n_servers < MAX_SERVERS) strcpy(server_names[n_servers++], name);
    if (i < n_servers) server_total[i]++, server_mark[i]++;
  } else {
    fail_count++;
    if (n_errors < MAX_ERRORS) {
      time_t s = (time_t)(at / 1000);
      struct tm tm;
      gmtime_r(&s, &tm);
      char iso[32];
      strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf(errors[n_errors++], LINE_LEN, "%s.%03dZ %s", iso, (int)((long long)at % 1000), why);
    }
  }
  pthread_mutex_unlock(&mu);
}

static void *worker(void *arg) {
  (void)arg;
  char name[NAME_LEN], why[ERR_LEN];
  while (!stopping) {
    double t = now_ms();
    int ok = get(name, why);
    record(ok, name, why, now_ms());
    double wait = interval_ms - (now_ms() - t);
    if (wait > 0 && !stopping) usleep((useconds_t)(wait * 1000));
  }
  return NULL;
}

/** `{"rs1":3,"rs2":4}` of `counts`; a name is the lab's own (letters, digits, dashes), printed as JSON text all the same. */
static void print_counts(const long *counts) {
  putchar('{');
  int first = 1;
  for (int i = 0; i < n_servers; i++) {
    if (!counts[i]) continue;
    printf("%s\"", first ? "" : ",");
    for (const char *c = server_names[i]; *c; c++) (*c == '"' || *c == '\\') ? printf("\\%c", *c) : (unsigned char)*c < 0x20 ? printf("\\u%04x", *c) : putchar(*c);
    printf("\":%ld", counts[i]);
    first = 0;
  }
  putchar('}');
}

/** `text`:`port` as a socket address of the loop's family; 0 when the text is no such address. */
static int to_sockaddr(const char *text, int port, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6, a->sin6_port = htons(port), *len = sizeof *a;
    return inet_pton(AF_INET6, text, &a->sin6_addr) == 1;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)out;
  a->sin_family = AF_INET, a->sin_port = htons(port), *len = sizeof *a;
  return inet_pton(AF_INET, text, &a->sin_addr) == 1;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: lab-loop ADDRESS PORT HOST PATH LOCAL|- WORKERS TIMEOUT_MS INTERVAL_MS\n");
    return 2;
  }
  const char *address = argv[1], *host = argv[3], *path = argv[4], *local = argv[5];
  int port = atoi(argv[2]), workers = atoi(argv[6]);
  timeout_ms = atoi(argv[7]);
  interval_ms = atoi(argv[8]);
  family = strchr(address, ':') ? AF_INET6 : AF_INET;
  if (!to_sockaddr(address, port, &dst, &dst_len)) return fprintf(stderr, "lab-loop: bad address %s\n", address), 2;
  has_src = strcmp(local, "-") != 0;
  if (has_src && !to_sockaddr(local, 0, &src, &src_len)) return fprintf(stderr, "lab-loop: bad local address %s\n", local), 2;
  if (workers < 1 || workers > 64 || timeout_ms < 1 || port < 1 || port > 65535) return fprintf(stderr, "lab-loop: bad arguments\n"), 2;
  snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nhost: %s\r\nconnection: close\r\n\r\n", path, host);
  started_ms = last_ok_ms = now_ms();
  pthread_t threads[64];
  for (int i = 0; i < workers; i++) pthread_create(&threads[i], NULL, worker, NULL);
  printf("{\"ready\":true}\n");
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'm') {
      pthread_mutex_lock(&mu);
      printf("{\"ok\":%ld,\"fail\":%ld,\"sinceMark\":", ok_count, fail_count);
      print_counts(server_mark);
      printf("}\n");
      memset(server_mark, 0, sizeof server_mark);
      pthread_mutex_unlock(&mu);
      fflush(stdout);
    } else if (line[0] == 's') break;
  }
  stopping = 1;
  for (int i = 0; i < workers; i++) pthread_join(threads[i], NULL);
  double end = now_ms();
  /* A gap still open when the loop stops counts too (no answer since the last success). */
  if (end - last_ok_ms > longest_gap_ms) longest_gap_ms = end - last_ok_ms;
  double seconds = (end - started_ms) / 1000;
  printf("{\"ok\":%ld,\"fail\":%ld,\"longestGapMs\":%.0f,\"servers\":", ok_count, fail_count, longest_gap_ms);
  print_counts(server_total);
  printf(",\"sinceMark\":");
  print_counts(server_mark);
  printf(",\"errors\":[");
  for (int i = 0; i < n_errors; i++) {
    printf("%s\"", i ? "," : "");
    for (const char *c = errors[i]; *c; c++) (*c == '"' || *c == '\\') ? printf("\\%c", *c) : putchar(*c);
    putchar('"');
  }
  printf("],\"seconds\":%.3f,\"ratePerS\":%.3f}\n", seconds, (ok_count + fail_count) / seconds);
  fflush(stdout);
  return 0;
}
