/*
 * it_proc: child processes of the integration tests. See it_proc.h.
 *
 * Everything a child needs (argv, envp, open files) is prepared before
 * fork(), so the child only calls async-signal-safe functions before exec:
 * the test process may already run librdkafka's or the test's own threads.
 */
#include "it_proc.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_time.h"
#include "it_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h> /* pthread_sigmask */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Most output it_run() keeps per stream. */
#define RUN_OUTPUT_CAP (1024u * 1024u)

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int it_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

int it_tempdir(char *out, size_t outsz, const char *prefix)
{
    int n = snprintf(out, outsz, "/tmp/%s-XXXXXX", prefix);
    if (n < 0 || (size_t)n >= outsz)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

void it_tempdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[1024];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (n > 0 && (size_t)n < sizeof path)
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int it_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return n == len && rc == 0 ? 0 : -1;
}

char *it_read_file(const char *path, size_t max, bool tail, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (tail && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 0 && (size_t)size > max)
            fseek(f, size - (long)max, SEEK_SET);
        else
            rewind(f);
    }
    char *buf = hp_xmalloc(max + 1);
    size_t n = fread(buf, 1, max, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/*
 * fork() with every signal blocked until the child has reset the handlers
 * it inherited (Check installs some that kill the whole process group): a
 * signal sent to the child before its exec() must not run them. Returns
 * fork's result; the child continues with default handlers and no mask.
 */
static pid_t fork_clean(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++)
            sigaction(sig, &sa, NULL);
        sigemptyset(&old);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid;
}

static bool listed(const char *const *names, const char *entry)
{
    size_t elen = strcspn(entry, "=");
    for (size_t i = 0; names && names[i]; i++) {
        size_t nlen = strcspn(names[i], "=");
        if (nlen == elen && strncmp(names[i], entry, nlen) == 0)
            return true;
    }
    return false;
}

/* Our environment minus unset, with set's entries replacing or adding. */
static char **make_env(const char *const *unset, const char *const *set)
{
    size_t n = 0, nset = 0;
    while (environ[n])
        n++;
    while (set && set[nset])
        nset++;
    char **env = hp_xcalloc(n + nset + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!listed(unset, environ[i]) && !listed(set, environ[i]))
            env[k++] = environ[i];
    for (size_t i = 0; i < nset; i++)
        env[k++] = (char *)set[i];
    return env;
}

int it_proc_spawn(it_proc *p, const char *const *argv, const char *const *unset,
                  const char *const *set, const char *log_path, char *err, size_t errsz)
{
    memset(p, 0, sizeof *p);
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        snprintf(err, errsz, "%s: %s", logfd < 0 ? log_path : "/dev/null", strerror(errno));
        if (logfd >= 0)
            close(logfd);
        if (nullfd >= 0)
            close(nullfd);
        return -1;
    }
    char **env = make_env(unset, set);
    pid_t pid = fork_clean();
    if (pid == 0) {
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    int saved = errno;
    free(env);
    close(logfd);
    close(nullfd);
    if (pid < 0) {
        snprintf(err, errsz, "fork: %s", strerror(saved));
        return -1;
    }
    p->pid = pid;
    return 0;
}

static int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

bool it_proc_alive(it_proc *p)
{
    if (p->pid <= 0)
        return false;
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == 0)
        return true;
    p->exit_status = r == p->pid ? decode_status(status) : -1;
    p->pid = 0;
    return false;
}

int it_proc_stop(it_proc *p, int sig, int timeout_ms)
{
    if (p->pid <= 0)
        return p->exit_status;
    kill(p->pid, sig);
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (it_proc_alive(p)) {
        if (hp_time_mono_ns() >= deadline)
            return -1;
        sleep_ms(10);
    }
    return p->exit_status;
}

void it_proc_kill(it_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    int status;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->exit_status = decode_status(status);
    p->pid = 0;
}

int it_proc_wait_http(it_proc *p, const char *host, int port, const char *path, int want_status,
                      int timeout_ms, char *err, size_t errsz)
{
    it_http_request req = {.method = "GET", .path = path};
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    char last[256] = "no answer yet";
    for (;;) {
        if (p && !it_proc_alive(p)) {
            snprintf(err, errsz, "the process exited (status %d) before %s answered %d",
                     p->exit_status, path, want_status);
            return -1;
        }
        it_http_response resp;
        if (it_http_once(host, port, 1000, &req, &resp, last, sizeof last) == 0) {
            int status = resp.status;
            snprintf(last, sizeof last, "last answer %d %.120s", status, resp.body);
            it_http_response_deinit(&resp);
            if (status == want_status)
                return 0;
        }
        if (hp_time_mono_ns() >= deadline) {
            snprintf(err, errsz, "GET %s on %s:%d did not answer %d within %d ms (%s)", path, host,
                     port, want_status, timeout_ms, last);
            return -1;
        }
        sleep_ms(100);
    }
}

void it_print_file_tail(const char *path, size_t max_bytes, const char *title)
{
    char *text = it_read_file(path, max_bytes, true, NULL);
    fprintf(stderr, "----- %s (%s, last %zu bytes) -----\n%s\n----- end of %s -----\n", title, path,
            max_bytes, text ? text : "(unreadable)", title);
    free(text);
}

/* Reads what is there from fd into buf (keeping at most the cap); -1 at EOF. */
static int drain(int fd, hp_buf *buf)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0)
        return -1;
    size_t room = buf->cap - buf->len;
    if (hp_buf_append(buf, chunk, (size_t)n < room ? (size_t)n : room) != HP_OK)
        abort();
    return 0;
}

/* Collects both pipes until both close or the deadline; returns -1 on the deadline. */
static int collect(int outfd, int errfd, hp_buf *out, hp_buf *errb, int64_t deadline)
{
    struct pollfd pfd[2] = {{.fd = outfd, .events = POLLIN}, {.fd = errfd, .events = POLLIN}};
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        int64_t left_ms = (deadline - hp_time_mono_ns()) / 1000000;
        if (left_ms <= 0)
            return -1;
        int n = poll(pfd, 2, (int)(left_ms > 1000 ? 1000 : left_ms));
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2 && n > 0; i++)
            if (pfd[i].fd >= 0 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                drain(pfd[i].fd, i == 0 ? out : errb) < 0)
                pfd[i].fd = -1;
    }
    return 0;
}

/* pipe2(O_CLOEXEC) is a GNU extension; this is the POSIX way. */
static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static void run_child(const char *const *argv, int outfd, int errfd, int nullfd)
{
    setsid();
    dup2(nullfd, 0);
    dup2(outfd, 1);
    dup2(errfd, 2);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int it_run(const char *const *argv, int timeout_ms, it_run_result *res)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    int outp[2], errp[2];
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nullfd < 0 || cloexec_pipe(outp) < 0 || cloexec_pipe(errp) < 0)
        abort(); /* out of descriptors in a test: a bug */
    pid_t pid = fork_clean();
    if (pid == 0)
        run_child(argv, outp[1], errp[1], nullfd);
    close(outp[1]);
    close(errp[1]);
    close(nullfd);
    hp_buf out, errb;
    hp_buf_init(&out, RUN_OUTPUT_CAP);
    hp_buf_init(&errb, RUN_OUTPUT_CAP);
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    int rc = pid < 0 ? -1 : 0;
    if (pid > 0) {
        it_proc p = {.pid = pid};
        bool timed_out = collect(outp[0], errp[0], &out, &errb, deadline) < 0;
        int64_t left_ms = (deadline - hp_time_mono_ns()) / 1000000;
        res->exit_code = timed_out ? -1 : it_proc_stop(&p, 0, left_ms > 0 ? (int)left_ms : 0);
        if (timed_out || res->exit_code < 0) {
            kill(-pid, SIGKILL);
            it_proc_kill(&p);
            res->exit_code = -1;
        }
    }
    close(outp[0]);
    close(errp[0]);
    res->out = hp_buf_take(&out, &res->out_len);
    res->err = hp_buf_take(&errb, &res->err_len);
    return rc;
}

void it_run_result_deinit(it_run_result *res)
{
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}
