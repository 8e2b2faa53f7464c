/*
 * epoll_echo: a minimal single-threaded echo server (RFC 862) on Linux
 * epoll, the reference plumb's echo is measured against in
 * bench/echo/run.sh. Level-triggered; each readable connection is read
 * once into a 64 KiB buffer and the bytes are written back before the
 * next event. A write that would block parks the rest in a per-
 * connection buffer and waits for EPOLLOUT, so a slow reader cannot
 * stall the others.
 *
 * usage: epoll_echo PORT   (binds 127.0.0.1)
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (64 * 1024)
#define MAXEV 256

struct pending {
	char *buf;
	size_t off, len;
};

static struct pending *pend;
static int maxfd = 1 << 16;

static void drop(int ep, int fd) {
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(pend[fd].buf);
	pend[fd].buf = NULL;
	pend[fd].off = pend[fd].len = 0;
}

/* flush writes what is parked for fd; 1 when all is out, 0 when it would block, -1 on error. */
static int flush(int fd) {
	struct pending *p = &pend[fd];
	while (p->off < p->len) {
		ssize_t n = write(fd, p->buf + p->off, p->len - p->off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
			if (errno == EINTR) continue;
			return -1;
		}
		p->off += (size_t)n;
	}
	p->off = p->len = 0;
	return 1;
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pend = calloc((size_t)maxfd, sizeof *pend);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 4096) < 0) {
		perror("bind/listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	static char buf[BUFSZ];
	struct epoll_event evs[MAXEV];
	for (;;) {
		int n = epoll_wait(ep, evs, MAXEV, -1);
		if (n < 0) {
			if (errno == EINTR) continue;
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				for (;;) {
					int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
					if (c < 0) break;
					if (c >= maxfd) { close(c); continue; }
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				int r = flush(fd);
				if (r < 0) { drop(ep, fd); continue; }
				if (r == 1) {
					struct epoll_event cev = {.events = EPOLLIN, .data.fd = fd};
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
				}
				continue;
			}
			ssize_t r = read(fd, buf, BUFSZ);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
				drop(ep, fd);
				continue;
			}
			ssize_t off = 0;
			while (off < r) {
				ssize_t w = write(fd, buf + off, (size_t)(r - off));
				if (w < 0) {
					if (errno == EINTR) continue;
					if (errno == EAGAIN || errno == EWOULDBLOCK) break;
					off = -1;
					break;
				}
				off += w;
			}
			if (off < 0) { drop(ep, fd); continue; }
			if (off < r) {
				struct pending *p = &pend[fd];
				p->buf = realloc(p->buf, (size_t)(r - off));
				memcpy(p->buf, buf + off, (size_t)(r - off));
				p->off = 0;
				p->len = (size_t)(r - off);
				struct epoll_event cev = {.events = EPOLLOUT, .data.fd = fd};
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
			}
		}
	}
}
