/*
 * it_proc: the integration tests' child processes — a daemon under test
 * (spawned, waited for until it answers, stopped with a signal and a bounded
 * wait) and short commands run to completion with their output captured
 * (--check-config, openssl, curl, deploy/local/stack).
 *
 * Process groups matter here. Check runs each test in a forked process of
 * its own group and kills that whole group when the test ends, however it
 * ends; a daemon spawned with it_proc_spawn() stays in the group, so a
 * failed assertion never leaves one behind. Commands run with it_run() get
 * a session of their own instead, because `stack kafka-start` leaves a
 * broker running that must outlive the test.
 */
#ifndef IT_PROC_H
#define IT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A spawned process; caller storage, zeroed before it_proc_spawn(). */
typedef struct it_proc {
    pid_t pid;       /* 0 when not running (never started, or reaped) */
    int exit_status; /* after it was reaped: as it_proc_stop() returns */
} it_proc;

/*
 * A TCP port on 127.0.0.1 that was free just now (bound to port 0 and
 * closed again; another process could take it before the daemon binds it,
 * which on a test machine is rare enough). Returns it, or -1.
 */
int it_free_port(void);

/* Makes a new directory /tmp/<prefix>-XXXXXX into out. Returns 0, or -1. */
int it_tempdir(char *out, size_t outsz, const char *prefix);

/* Removes dir and the files in it (not subdirectories). */
void it_tempdir_remove(const char *dir);

/* Writes len bytes to path (created mode 0600, truncated). Returns 0, or -1. */
int it_write_file(const char *path, const void *data, size_t len);

/*
 * The contents of path, at most max bytes (the last ones if tail, else the
 * first), NUL-terminated; *len (may be NULL) gets the length. NULL if it
 * cannot be read. The caller frees.
 */
char *it_read_file(const char *path, size_t max, bool tail, size_t *len);

/*
 * Starts argv[0] (a path) with arguments argv (NULL-terminated), stdin from
 * /dev/null, stdout and stderr appended to log_path. The environment is
 * ours without the variables named in unset and with the "NAME=value"
 * entries of set (both NULL-terminated, may be NULL). The child stays in
 * the caller's process group. Returns 0, or -1 with a message in err.
 */
int it_proc_spawn(it_proc *p, const char *const *argv, const char *const *unset,
                  const char *const *set, const char *log_path, char *err, size_t errsz);

/* Whether p still runs; reaps it (filling exit_status) if it has exited. */
bool it_proc_alive(it_proc *p);

/*
 * Sends sig to p and waits at most timeout_ms for it to exit. Returns its
 * exit code (0–255), 128 + the signal if a signal killed it, or -1 if it
 * still runs (it is left running: see it_proc_kill). Returns the saved
 * status if p had already been reaped.
 */
int it_proc_stop(it_proc *p, int sig, int timeout_ms);

/* SIGKILLs p if it runs and reaps it. */
void it_proc_kill(it_proc *p);

/*
 * Polls GET path on host:port every 100 ms until it answers want_status.
 * Returns 0; or -1 with a message in err when timeout_ms pass first or p
 * (if not NULL) exits meanwhile.
 */
int it_proc_wait_http(it_proc *p, const char *host, int port, const char *path, int want_status,
                      int timeout_ms, char *err, size_t errsz);

/* Prints the last max_bytes of the file at path to stderr under a title line. */
void it_print_file_tail(const char *path, size_t max_bytes, const char *title);

/* A command's result: its exit code and what it wrote (each NUL-terminated). */
typedef struct it_run_result {
    int exit_code; /* as it_proc_stop() returns; -1 if it timed out and was killed */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
} it_run_result;

/*
 * Runs argv (argv[0] a path, or a name looked up in PATH) in a session of
 * its own with stdin from /dev/null, and waits at most timeout_ms; on the
 * timeout its whole process group is killed. Keeps the first 1 MiB of its
 * stdout and of its stderr. Returns 0 when it ran (see res->exit_code), -1
 * if it could not be started; the caller frees res with
 * it_run_result_deinit() either way.
 */
int it_run(const char *const *argv, int timeout_ms, it_run_result *res);

void it_run_result_deinit(it_run_result *res);

#endif /* IT_PROC_H */
