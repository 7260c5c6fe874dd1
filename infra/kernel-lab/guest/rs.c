/*
 * lab-rs-server: a lab real server, in C. Under TCG the guest's two emulated CPUs bound the lab's
 * request rate, and the Node server answering the lab's requests was their largest user (~10 ms a
 * request); this one answers the same way with a fraction of that.
 *
 *   lab-rs-server NAME [--echo PORT] PORT…
 *
 * HTTP/1.x on every PORT, one request per connection, answered and closed: the body is NAME and a
 * newline, with an `x-server: NAME` header; `/big?n=BYTES` sends that many bytes instead (to see
 * which way replies travel); `/count` answers this server's counter as JSON: requests served per
 * local `address:port` (an IPv4 address reads `::ffff:a.b.c.d`: the sockets are dual-stack), so a
 * scenario can tell requests through a VIP from the directors' health checks. Port 9000 (or the
 * --echo port) echoes each line it gets, prefixed with NAME: a long-lived connection that must
 * survive changes.
 * One thread, epoll, non-blocking sockets.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST 16384
#define MAX_BIG (64L << 20)
#define MAX_COUNTED 64

typedef struct {
  int echo;         /* the echo port's connection, else HTTP */
  int answered;     /* HTTP: the answer is queued; what comes in now is only read and dropped */
  char in[MAX_REQUEST];
  size_t in_len;
  char *out;        /* what is still to write */
  size_t out_len, out_off;
  char local[INET6_ADDRSTRLEN + 8];
} Conn;

static const char *name;
static int echo_port = 9000;
static int ep;
static char counted_at[MAX_COUNTED][INET6_ADDRSTRLEN + 8];
static long counted[MAX_COUNTED];
static int n_counted;

static void drop(int fd, Conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  if (c) free(c->out), free(c);
}

/** Appends to the connection's output. */
static void queue(Conn *c, const char *data, size_t len) {
  c->out = realloc(c->out, c->out_len + len);
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
}

/** Writes what it can; 1 when all is written. */
static int flush(int fd, Conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    c->out_off += n;
  }
  free(c->out);
  c->out = NULL, c->out_len = c->out_off = 0;
  return 1;
}

static void count(const char *at) {
  for (int i = 0; i < n_counted; i++)
    if (strcmp(counted_at[i], at) == 0) return (void)counted[i]++;
  if (n_counted < MAX_COUNTED) strcpy(counted_at[n_counted], at), counted[n_counted++] = 1;
}

static void respond(Conn *c, const char *type, const char *body, size_t len, int server) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %zu\r\n%s%s%sconnection: close\r\n\r\n", type, len,
                   server ? "x-server: " : "", server ? name : "", server ? "\r\n" : "");
  queue(c, head, n);
  queue(c, body, len);
}

/** The request line's target (`GET /x HTTP/1.1`: `/x`), as the Node server's /^[A-Z]+ (\S+) HTTP\/1\.[01]\r\n/ took it; 0 when it is not one. */
static int request_target(const char *in, char *target, size_t size) {
  size_t m = strspn(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  if (m == 0 || in[m] != ' ') return 0;
  const char *t = in + m + 1;
  size_t len = strcspn(t, " \t\r\n\f\v");
  if (len == 0 || len >= size || strncmp(t + len, " HTTP/1.", 8) != 0 || (t[len + 8] != '0' && t[len + 8] != '1') || strncmp(t + len + 9, "\r\n", 2) != 0)
    return 0;
  memcpy(target, t, len);
  target[len] = 0;
  return 1;
}

/** The answer to a whole request head in c->in. */
static void answer(Conn *c) {
  char target[2048];
  if (!request_target(c->in, target, sizeof target)) {
    const char *bad = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    return queue(c, bad, strlen(bad));
  }
  size_t path_len = strcspn(target, "?#");
  if (path_len == 6 && strncmp(target, "/count", 6) == 0) {
    char body[MAX_COUNTED * (INET6_ADDRSTRLEN + 32) + 2];
    size_t n = 0;
    body[n++] = '{';
    for (int i = 0; i < n_counted; i++) n += sprintf(body + n, "%s\"%s\":%ld", i ? "," : "", counted_at[i], counted[i]);
    body[n++] = '}';
    return respond(c, "application/json", body, n, 0);
  }
  count(c->local);
  long big = 0;
  if (path_len == 4 && strncmp(target, "/big", 4) == 0) {
    const char *q = strchr(target, '?');
    for (const char *p = q; p && *p; p = strchr(p + 1, '&'))
      if (strncmp(p + 1, "n=", 2) == 0) big = atol(p + 3);
  }
  if (big > 0) {
    if (big > MAX_BIG) big = MAX_BIG;
    char *body = malloc(big);
    memset(body, 'a', big);
    respond(c, "text/plain", body, big, 1);
    free(body);
  } else {
    char body[256];
    int n = snprintf(body, sizeof body, "%s\n", name);
    respond(c, "text/plain", body, n, 1);
  }
}

/** Reads what came; 0 when the connection is done with. */
static int readable(int fd, Conn *c) {
  for (;;) {
    char scratch[4096];
    char *into = c->answered ? scratch : c->in + c->in_len;
    size_t room = c->answered ? sizeof scratch : sizeof c->in - 1 - c->in_len;
    if (room == 0) return 0; /* a request head over 16 KiB: dropped, as the Node server did */
    ssize_t n = recv(fd, into, room, 0);
    if (n == 0) return 0;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : 0;
    if (c->answered) continue;
    c->in_len += n;
    c->in[c->in_len] = 0;
    if (c->echo) {
      char *nl;
      while ((nl = memchr(c->in, '\n', c->in_len))) {
        size_t line = nl - c->in;
        char out[MAX_REQUEST + 128];
        int m = snprintf(out, sizeof out, "%s %.*s\n", name, (int)line, c->in);
        queue(c, out, m);
        memmove(c->in, nl + 1, c->in_len - line - 1);
        c->in_len -= line + 1;
        c->in[c->in_len] = 0;
      }
      if (flush(fd, c) < 0) return 0;
    } else if (strstr(c->in, "\r\n\r\n")) {
      c->answered = 1;
      answer(c);
      int f = flush(fd, c);
      if (f < 0) return 0;
      if (f == 1) shutdown(fd, SHUT_WR); /* all written: FIN, then wait for the client's close */
    }
  }
}

static int listen_on(int port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), off = 0, on = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0) {
    fprintf(stderr, "lab-rs-server: port %d: %s\n", port, strerror(errno));
    exit(1);
  }
  return fd;
}

static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char **argv) {
  int first = 2;
  if (argc > 3 && strcmp(argv[2], "--echo") == 0) echo_port = atoi(argv[3]), first = 4;
  if (argc <= first || echo_port < 1 || echo_port > 65535) return fprintf(stderr, "usage: lab-rs-server NAME [--echo PORT] PORT…\n"), 2;
  name = argv[1];
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_term);
  ep = epoll_create1(EPOLL_CLOEXEC);
  int listeners[32], ports[32], n = 0;
  for (int i = first; i < argc && n < 31; i++) {
    int port = atoi(argv[i]);
    if (port < 1 || port > 65535 || port == echo_port) return fprintf(stderr, "lab-rs-server: bad port %s\n", argv[i]), 2;
    ports[n] = port, listeners[n++] = listen_on(port);
  }
  ports[n] = echo_port, listeners[n++] = listen_on(echo_port);
  /* Listeners are registered with a NULL pointer and their index in the high bits of u64. */
  for (int i = 0; i < n; i++) {
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = ((uint64_t)(i + 1) << 32) | (uint32_t)listeners[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, listeners[i], &e);
  }
  printf("%s listening on", name);
  for (int i = 0; i < n - 1; i++) printf("%s%d", i ? "," : " ", ports[i]);
  printf(" and %d\n", echo_port);
  fflush(stdout);
  Conn **conns = calloc(65536, sizeof *conns);
  struct epoll_event events[64];
  for (;;) {
    int k = epoll_wait(ep, events, 64, -1);
    if (k < 0 && errno == EINTR) continue;
    for (int j = 0; j < k; j++) {
      uint64_t d = events[j].data.u64;
      int fd = (int)(uint32_t)d, li = (int)(d >> 32) - 1;
      if (li >= 0) {
        for (;;) {
          struct sockaddr_in6 peer;
          socklen_t pl = sizeof peer;
          int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          if (cfd >= 65536) {
            close(cfd);
            continue;
          }
          Conn *c = calloc(1, sizeof *c);
          c->echo = ports[li] == echo_port;
          if (c->echo) setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
          struct sockaddr_in6 me;
          socklen_t ml = sizeof me;
          char addr[INET6_ADDRSTRLEN] = "?";
          if (getsockname(cfd, (struct sockaddr *)&me, &ml) == 0) inet_ntop(AF_INET6, &me.sin6_addr, addr, sizeof addr);
          snprintf(c->local, sizeof c->local, "%s:%d", addr, ports[li]);
          conns[cfd] = c;
          struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.u64 = (uint32_t)cfd};
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e);
        }
        continue;
      }
      Conn *c = conns[fd];
      if (!c) continue;
      int alive = 1;
      if (events[j].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) alive = readable(fd, c);
      if (alive && c->out_len && (events[j].events & EPOLLOUT)) {
        int f = flush(fd, c);
        if (f < 0) alive = 0;
        else if (f == 1 && c->answered) shutdown(fd, SHUT_WR);
      }
      if (!alive) {
        conns[fd] = NULL;
        drop(fd, c);
      }
    }
  }
}
