/*
 * hp_net: listening sockets. See hp_net.h.
 */
#include "hp_net.h"

#include "hp_config.h" /* hp_config_parse_hostport: one grammar for every listen address */

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections the kernel queues before the server accepts them. */
#define HP_NET_BACKLOG 1024
#define HP_NET_HOST_MAX 256

/* A non-blocking socket bound to ai and listening, or -1 with *err set. */
static int listen_on(const struct addrinfo *ai, int *err)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    /* A restart must not wait for the old process's TIME_WAIT connections. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, HP_NET_BACKLOG) != 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

hp_err hp_net_listen(const char *what, const char *addr, int *fd_out, char *errstr,
                     size_t errstr_size)
{
    char host[HP_NET_HOST_MAX], port[8];
    int portnum;
    if (hp_config_parse_hostport(addr, host, sizeof host, &portnum) != HP_OK) {
        snprintf(errstr, errstr_size,
                 "%s \"%s\": expected host:port, [ipv6]:port or :port (port 0-65535)", what, addr);
        return HP_ERR_INVALID;
    }
    snprintf(port, sizeof port, "%d", portnum);

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int gai = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &res);
    if (gai != 0) {
        snprintf(errstr, errstr_size, "%s %s: %s", what, addr, gai_strerror(gai));
        return HP_ERR_IO;
    }
    int fd = -1, err = EADDRNOTAVAIL;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = listen_on(ai, &err);
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s %s: %s", what, addr, strerror(err));
        return HP_ERR_IO;
    }
    *fd_out = fd;
    return HP_OK;
}

int hp_net_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
