/*
 * hp_metrics: a Prometheus registry. See hp_metrics.h.
 *
 * Why the hot path takes no lock: every request of the gateway updates a few
 * metrics, from all HTTP threads at once. A registry-wide mutex would make
 * these threads queue on one cache line for every request. Instead:
 *
 *  - Values are C11 atomics. Counters and histogram buckets are
 *    _Atomic uint64_t bumped with a relaxed fetch_add; gauges and histogram
 *    sums are doubles kept as their bit pattern in an _Atomic uint64_t and
 *    updated with a compare-and-swap loop. Relaxed order is enough: each
 *    value is independent and a scrape only needs some recent value.
 *
 *  - The children of a family form an append-only singly linked list. A
 *    child is fully built before a release store links it in (at the tail,
 *    to keep creation order), and readers walk the list with acquire loads,
 *    so a lookup of an existing child takes no lock. Only creating a child
 *    takes the family's mutex, and re-checks the list under it so that two
 *    threads asking for the same new child get the same one. Children are
 *    never unlinked before hp_metrics_free(), which is what makes lock-free
 *    readers safe without any reclamation scheme (hp_gauge_remove only hides
 *    a child).
 *
 *  - Histogram buckets are stored non-cumulative (one increment per
 *    observation) and summed at render time; the "+Inf" bucket and _count
 *    are that same sum, so they always agree in a scrape.
 *
 * Families are registered at startup; their list is guarded by the
 * registry's mutex, which rendering also takes (rendering is rare).
 */
#include "hp_metrics.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_log.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(double) == sizeof(uint64_t), "gauges keep doubles in 64-bit atomics");

const double HP_METRICS_LATENCY_BUCKETS[HP_METRICS_LATENCY_NBOUNDS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

/* What every child starts with; the family's list links these. */
struct child {
    _Atomic(struct child *) next;
    char **values; /* one copy per label name */
};

struct hp_counter {
    struct child ch; /* first: a struct child * converts to and from hp_counter * */
    _Atomic uint64_t value;
};

struct hp_gauge {
    struct child ch;
    _Atomic uint64_t bits; /* a double */
    atomic_bool hidden;    /* hp_gauge_remove()d */
};

struct hp_histogram {
    struct child ch;
    const double *bounds; /* the family's */
    size_t nbounds;
    _Atomic uint64_t sum_bits;  /* a double */
    _Atomic uint64_t buckets[]; /* nbounds + 1, the last one for +Inf; not cumulative */
};

struct family {
    struct family *next; /* registration order, under the registry's lock */
    enum kind kind;
    char *name;
    char *help;
    size_t nlabels;
    char *label_names[HP_METRICS_MAX_LABELS];
    double *bounds; /* histograms */
    size_t nbounds;
    _Atomic(struct child *) head;
    struct child *tail; /* under lock */
    pthread_mutex_t lock;
};

struct hp_counter_family {
    struct family fam;
};
struct hp_gauge_family {
    struct family fam;
};
struct hp_histogram_family {
    struct family fam;
};

struct hp_metrics {
    pthread_mutex_t lock;
    struct family *first;
    struct family *last;
};

static _Noreturn void misuse(const char *what, const char *name)
{
    hp_log(HP_LOG_ERROR, "metrics", what, HP_LOG_STR("name", name));
    abort();
}

/* ---- doubles in atomics ---- */

static uint64_t dbl_to_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

static double bits_to_dbl(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void atomic_add_dbl(_Atomic uint64_t *p, double d)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, dbl_to_bits(bits_to_dbl(old) + d),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- registration ---- */

static bool valid_name(const char *s, bool colon_ok)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool ok = alpha || (colon_ok && c == ':') || (p != s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static void check_labels(const char *name, size_t nlabels, const char *const *label_names,
                         bool histogram)
{
    if (nlabels > HP_METRICS_MAX_LABELS || (nlabels > 0 && !label_names))
        misuse("metric family has too many labels or no label names", name);
    for (size_t i = 0; i < nlabels; i++) {
        const char *label = label_names[i];
        if (!valid_name(label, false) || strncmp(label, "__", 2) == 0)
            misuse("invalid metric label name", label);
        if (histogram && strcmp(label, "le") == 0)
            misuse("a histogram cannot have a label named le", name);
    }
}

static struct family *find_family(const hp_metrics *reg, const char *name)
{
    for (struct family *fam = reg->first; fam; fam = fam->next)
        if (strcmp(fam->name, name) == 0)
            return fam;
    return NULL;
}

/* Checks the arguments common to every kind and copies them into fam (zeroed). */
static void family_init(struct family *fam, enum kind kind, const char *name, const char *help,
                        size_t nlabels, const char *const *label_names)
{
    if (!valid_name(name, true))
        misuse("invalid metric name", name ? name : "(null)");
    check_labels(name, nlabels, label_names, kind == KIND_HISTOGRAM);
    fam->kind = kind;
    fam->name = hp_xstrdup(name);
    fam->help = hp_xstrdup(help ? help : "");
    fam->nlabels = nlabels;
    for (size_t i = 0; i < nlabels; i++)
        fam->label_names[i] = hp_xstrdup(label_names[i]);
    atomic_init(&fam->head, NULL);
    pthread_mutex_init(&fam->lock, NULL);
}

/* Appends fam to reg, which must not hold its name yet. */
static void family_register(hp_metrics *reg, struct family *fam)
{
    pthread_mutex_lock(&reg->lock);
    bool dup = find_family(reg, fam->name) != NULL;
    if (!dup) {
        if (reg->last)
            reg->last->next = fam;
        else
            reg->first = fam;
        reg->last = fam;
    }
    pthread_mutex_unlock(&reg->lock);
    if (dup)
        misuse("metric registered twice", fam->name);
}

hp_metrics *hp_metrics_new(void)
{
    hp_metrics *reg = hp_xcalloc(1, sizeof *reg);
    pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

hp_counter_family *hp_metrics_counter(hp_metrics *reg, const char *name, const char *help,
                                      size_t nlabels, const char *const *label_names)
{
    hp_counter_family *cf = hp_xcalloc(1, sizeof *cf);
    family_init(&cf->fam, KIND_COUNTER, name, help, nlabels, label_names);
    family_register(reg, &cf->fam);
    return cf;
}

hp_gauge_family *hp_metrics_gauge(hp_metrics *reg, const char *name, const char *help,
                                  size_t nlabels, const char *const *label_names)
{
    hp_gauge_family *gf = hp_xcalloc(1, sizeof *gf);
    family_init(&gf->fam, KIND_GAUGE, name, help, nlabels, label_names);
    family_register(reg, &gf->fam);
    return gf;
}

hp_histogram_family *hp_metrics_histogram(hp_metrics *reg, const char *name, const char *help,
                                          size_t nlabels, const char *const *label_names,
                                          const double *bounds, size_t nbounds)
{
    if (nbounds > 0 && !bounds)
        misuse("histogram without bucket bounds", name);
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            misuse("histogram bounds must be finite and strictly increasing", name);
    hp_histogram_family *hf = hp_xcalloc(1, sizeof *hf);
    family_init(&hf->fam, KIND_HISTOGRAM, name, help, nlabels, label_names);
    hf->fam.bounds = hp_xmalloc((nbounds ? nbounds : 1) * sizeof *bounds);
    if (nbounds)
        memcpy(hf->fam.bounds, bounds, nbounds * sizeof *bounds);
    hf->fam.nbounds = nbounds;
    family_register(reg, &hf->fam);
    return hf;
}

/* ---- children ---- */

static bool child_matches(const struct family *fam, const struct child *ch,
                          const char *const *values)
{
    for (size_t i = 0; i < fam->nlabels; i++)
        if (strcmp(ch->values[i], values[i]) != 0)
            return false;
    return true;
}

/* Lock-free: the acquire loads pair with the release store in child_get(). */
static struct child *child_find(struct family *fam, const char *const *values)
{
    struct child *ch = atomic_load_explicit(&fam->head, memory_order_acquire);
    for (; ch; ch = atomic_load_explicit(&ch->next, memory_order_acquire))
        if (child_matches(fam, ch, values))
            return ch;
    return NULL;
}

/* A zeroed child of the family's kind, label values copied, not linked yet. */
static struct child *child_new(const struct family *fam, const char *const *values)
{
    struct child *ch;
    if (fam->kind == KIND_COUNTER) {
        hp_counter *ctr = hp_xcalloc(1, sizeof *ctr);
        atomic_init(&ctr->value, 0);
        ch = &ctr->ch;
    } else if (fam->kind == KIND_GAUGE) {
        hp_gauge *gauge = hp_xcalloc(1, sizeof *gauge);
        atomic_init(&gauge->bits, dbl_to_bits(0.0));
        atomic_init(&gauge->hidden, false);
        ch = &gauge->ch;
    } else {
        size_t nb = fam->nbounds + 1;
        hp_histogram *hist = hp_xcalloc(1, sizeof *hist + nb * sizeof hist->buckets[0]);
        hist->bounds = fam->bounds;
        hist->nbounds = fam->nbounds;
        atomic_init(&hist->sum_bits, dbl_to_bits(0.0));
        for (size_t i = 0; i < nb; i++)
            atomic_init(&hist->buckets[i], 0);
        ch = &hist->ch;
    }
    atomic_init(&ch->next, NULL);
    ch->values = hp_xcalloc(fam->nlabels ? fam->nlabels : 1, sizeof *ch->values);
    for (size_t i = 0; i < fam->nlabels; i++)
        ch->values[i] = hp_xstrdup(values[i]);
    return ch;
}

static void check_values(const struct family *fam, const char *const *values)
{
    if (fam->nlabels > 0 && !values)
        misuse("metric child looked up without label values", fam->name);
    for (size_t i = 0; i < fam->nlabels; i++)
        if (!values[i])
            misuse("metric child looked up with a NULL label value", fam->name);
}

/* Finds or creates the child for values; see the top of the file. */
static struct child *child_get(struct family *fam, const char *const *values)
{
    check_values(fam, values);
    struct child *ch = child_find(fam, values);
    if (ch)
        return ch;
    pthread_mutex_lock(&fam->lock);
    /* Another thread may have created it since we looked. */
    ch = child_find(fam, values);
    if (!ch) {
        ch = child_new(fam, values);
        if (fam->tail)
            atomic_store_explicit(&fam->tail->next, ch, memory_order_release);
        else
            atomic_store_explicit(&fam->head, ch, memory_order_release);
        fam->tail = ch;
    }
    pthread_mutex_unlock(&fam->lock);
    return ch;
}

/* The children are the first member of their kind's struct (C11 6.7.2.1p15). */
static hp_counter *as_counter(struct child *ch)
{
    return (hp_counter *)(void *)ch;
}

static hp_gauge *as_gauge(struct child *ch)
{
    return (hp_gauge *)(void *)ch;
}

static hp_histogram *as_histogram(struct child *ch)
{
    return (hp_histogram *)(void *)ch;
}

hp_counter *hp_counter_get(hp_counter_family *fam, const char *const *label_values)
{
    return as_counter(child_get(&fam->fam, label_values));
}

void hp_counter_add(hp_counter *ctr, uint64_t n)
{
    atomic_fetch_add_explicit(&ctr->value, n, memory_order_relaxed);
}

void hp_counter_inc(hp_counter *ctr)
{
    atomic_fetch_add_explicit(&ctr->value, 1, memory_order_relaxed);
}

uint64_t hp_counter_value(const hp_counter *ctr)
{
    return atomic_load_explicit(&ctr->value, memory_order_relaxed);
}

hp_gauge *hp_gauge_get(hp_gauge_family *fam, const char *const *label_values)
{
    hp_gauge *gauge = as_gauge(child_get(&fam->fam, label_values));
    /* Revive a removed child from 0, whatever stale handles did since. */
    if (atomic_load_explicit(&gauge->hidden, memory_order_relaxed)) {
        atomic_store_explicit(&gauge->bits, dbl_to_bits(0.0), memory_order_relaxed);
        atomic_store_explicit(&gauge->hidden, false, memory_order_relaxed);
    }
    return gauge;
}

void hp_gauge_set(hp_gauge *gauge, double v)
{
    atomic_store_explicit(&gauge->bits, dbl_to_bits(v), memory_order_relaxed);
}

void hp_gauge_add(hp_gauge *gauge, double d)
{
    atomic_add_dbl(&gauge->bits, d);
}

double hp_gauge_value(const hp_gauge *gauge)
{
    return bits_to_dbl(atomic_load_explicit(&gauge->bits, memory_order_relaxed));
}

void hp_gauge_remove(hp_gauge_family *fam, const char *const *label_values)
{
    check_values(&fam->fam, label_values);
    struct child *ch = child_find(&fam->fam, label_values);
    if (!ch)
        return;
    hp_gauge *gauge = as_gauge(ch);
    atomic_store_explicit(&gauge->hidden, true, memory_order_relaxed);
    atomic_store_explicit(&gauge->bits, dbl_to_bits(0.0), memory_order_relaxed);
}

hp_histogram *hp_histogram_get(hp_histogram_family *fam, const char *const *label_values)
{
    return as_histogram(child_get(&fam->fam, label_values));
}

void hp_histogram_observe(hp_histogram *hist, double v)
{
    /* Prometheus buckets count v <= bound; NaN lands in +Inf. Bucket lists are short. */
    size_t i = 0;
    while (i < hist->nbounds && !(v <= hist->bounds[i]))
        i++;
    atomic_fetch_add_explicit(&hist->buckets[i], 1, memory_order_relaxed);
    atomic_add_dbl(&hist->sum_bits, v);
}

/* ---- rendering ---- */

/* A render's output; once an append fails (the cap), the rest are skipped. */
struct out {
    hp_buf buf;
    bool full;
};

static void out_mem(struct out *o, const char *s, size_t n)
{
    if (!o->full && hp_buf_append(&o->buf, s, n) != HP_OK)
        o->full = true;
}

static void out_str(struct out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

/* Appends s with backslash and newline escaped, and double quotes too if quotes. */
static void out_escaped(struct out *o, const char *s, bool quotes)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = NULL;
        if (*p == '\\')
            esc = "\\\\";
        else if (*p == '\n')
            esc = "\\n";
        else if (quotes && *p == '"')
            esc = "\\\"";
        if (!esc)
            continue;
        out_mem(o, run, (size_t)(p - run));
        out_str(o, esc);
        run = p + 1;
    }
    out_str(o, run);
}

/*
 * Writes v as Prometheus reads it (NaN, +Inf, -Inf) or as the shortest of
 * %.15g and %.17g that reads back as v, so 0.1 prints as "0.1", not
 * "0.10000000000000001". size must be at least 32. Returns the length.
 */
static size_t format_double(double v, char *buf, size_t size)
{
    int n;
    if (isnan(v)) {
        n = snprintf(buf, size, "NaN");
    } else if (isinf(v)) {
        n = snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
    } else {
        n = snprintf(buf, size, "%.15g", v);
        if (n > 0 && (size_t)n < size && strtod(buf, NULL) != v)
            n = snprintf(buf, size, "%.17g", v);
    }
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

static void out_double(struct out *o, double v)
{
    char num[32];
    out_mem(o, num, format_double(v, num, sizeof num));
}

static void out_u64(struct out *o, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64, v);
    if (n > 0 && (size_t)n < sizeof num)
        out_mem(o, num, (size_t)n);
}

/* Writes `name<suffix>{label="value",…,le="…"} `; le last, if given. */
static void out_series(struct out *o, const struct family *fam, const char *suffix,
                       const struct child *ch, const char *le)
{
    out_str(o, fam->name);
    out_str(o, suffix);
    if (fam->nlabels > 0 || le) {
        out_mem(o, "{", 1);
        for (size_t i = 0; i < fam->nlabels; i++) {
            if (i > 0)
                out_mem(o, ",", 1);
            out_str(o, fam->label_names[i]);
            out_mem(o, "=\"", 2);
            out_escaped(o, ch->values[i], true);
            out_mem(o, "\"", 1);
        }
        if (le) {
            out_str(o, fam->nlabels > 0 ? ",le=\"" : "le=\"");
            out_str(o, le);
            out_mem(o, "\"", 1);
        }
        out_mem(o, "}", 1);
    }
    out_mem(o, " ", 1);
}

static void render_histogram(struct out *o, const struct family *fam, hp_histogram *hist)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= hist->nbounds; i++) {
        char le[32];
        format_double(i < hist->nbounds ? hist->bounds[i] : INFINITY, le, sizeof le);
        total += atomic_load_explicit(&hist->buckets[i], memory_order_relaxed);
        out_series(o, fam, "_bucket", &hist->ch, le);
        out_u64(o, total);
        out_mem(o, "\n", 1);
    }
    out_series(o, fam, "_sum", &hist->ch, NULL);
    out_double(o, bits_to_dbl(atomic_load_explicit(&hist->sum_bits, memory_order_relaxed)));
    out_mem(o, "\n", 1);
    out_series(o, fam, "_count", &hist->ch, NULL);
    out_u64(o, total);
    out_mem(o, "\n", 1);
}

static void render_child(struct out *o, const struct family *fam, struct child *ch)
{
    if (fam->kind == KIND_COUNTER) {
        out_series(o, fam, "", ch, NULL);
        out_u64(o, hp_counter_value(as_counter(ch)));
        out_mem(o, "\n", 1);
    } else if (fam->kind == KIND_GAUGE) {
        hp_gauge *gauge = as_gauge(ch);
        if (atomic_load_explicit(&gauge->hidden, memory_order_relaxed))
            return;
        out_series(o, fam, "", ch, NULL);
        out_double(o, hp_gauge_value(gauge));
        out_mem(o, "\n", 1);
    } else {
        render_histogram(o, fam, as_histogram(ch));
    }
}

static void render_family(struct out *o, struct family *fam)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    if (fam->help[0]) {
        out_str(o, "# HELP ");
        out_str(o, fam->name);
        out_mem(o, " ", 1);
        out_escaped(o, fam->help, false);
        out_mem(o, "\n", 1);
    }
    out_str(o, "# TYPE ");
    out_str(o, fam->name);
    out_mem(o, " ", 1);
    out_str(o, type_names[fam->kind]);
    out_mem(o, "\n", 1);
    struct child *ch = atomic_load_explicit(&fam->head, memory_order_acquire);
    for (; ch; ch = atomic_load_explicit(&ch->next, memory_order_acquire))
        render_child(o, fam, ch);
}

char *hp_metrics_render(hp_metrics *reg, size_t *len)
{
    struct out o;
    hp_buf_init(&o.buf, HP_METRICS_RENDER_MAX);
    o.full = false;
    pthread_mutex_lock(&reg->lock);
    for (struct family *fam = reg->first; fam; fam = fam->next)
        render_family(&o, fam);
    pthread_mutex_unlock(&reg->lock);
    if (o.full) {
        hp_buf_deinit(&o.buf);
        *len = 0;
        return NULL;
    }
    return hp_buf_take(&o.buf, len);
}

/* ---- freeing ---- */

static void family_free(struct family *fam)
{
    struct child *ch = atomic_load_explicit(&fam->head, memory_order_acquire);
    while (ch) {
        struct child *next = atomic_load_explicit(&ch->next, memory_order_relaxed);
        for (size_t i = 0; i < fam->nlabels; i++)
            free(ch->values[i]);
        free(ch->values);
        free(ch); /* the address of the whole hp_counter/hp_gauge/hp_histogram */
        ch = next;
    }
    for (size_t i = 0; i < fam->nlabels; i++)
        free(fam->label_names[i]);
    free(fam->name);
    free(fam->help);
    free(fam->bounds);
    pthread_mutex_destroy(&fam->lock);
    free(fam); /* likewise the whole typed family */
}

void hp_metrics_free(hp_metrics *reg)
{
    if (!reg)
        return;
    struct family *fam = reg->first;
    while (fam) {
        struct family *next = fam->next;
        family_free(fam);
        fam = next;
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}
