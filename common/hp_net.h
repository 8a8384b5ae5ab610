/*
 * hp_net: listening sockets for the gateway's and the admin HTTP servers.
 *
 * libmicrohttpd can bind a socket itself, but MHD_start_daemon() only returns
 * NULL when that fails; an operator needs to read why (address in use, not an
 * address of this host, permission denied) next to the address. So hookpipe
 * binds here and hands the socket to MHD with MHD_OPTION_LISTEN_SOCKET.
 */
#ifndef HP_NET_H
#define HP_NET_H

#include "hp_err.h"

#include <stddef.h>

/*
 * Resolves addr ("host:port", "[v6]:port" or ":port" for every IPv4
 * interface; port 0 picks a free port) and returns in *fd a non-blocking,
 * close-on-exec socket listening on the first address that binds. what names
 * the setting in messages: "admin_listen 127.0.0.1:9090: Address already in
 * use". HP_ERR_INVALID for a malformed address, HP_ERR_IO when it can't be
 * resolved or bound. The caller owns *fd. @thread any
 */
hp_err hp_net_listen(const char *what, const char *addr, int *fd, char *errstr,
                     size_t errstr_size) HP_WARN_UNUSED;

/* The port fd is bound to, or -1. @thread any */
int hp_net_local_port(int fd);

#endif /* HP_NET_H */
