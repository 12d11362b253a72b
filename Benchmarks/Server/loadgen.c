/* Load generator for Tools/bench-server: N threads, each with its own connection, run one
 * workload for a fixed time and record every operation's latency.
 *   loadgen mongo URI WORKLOAD THREADS SECONDS   WORKLOAD: insert, find, update, ycsb-a, ycsb-b
 *   loadgen echo HOST:PORT - THREADS SECONDS     64-byte round trips against echo_server
 * Prints one line: workload threads ops ops_per_sec p50_us p99_us.
 * LOADGEN_OPS=n in the environment: each thread runs exactly n operations and SECONDS is
 * ignored (for measuring the server's CPU per request over a fixed count), and the line gets a
 * seventh field: this process's own user+system CPU per operation in microseconds (the driver's
 * cost, populate excluded); LOADGEN_NO_POPULATE=1 skips (re)loading the records, for a second
 * run against data a first run loaded.
 * A find by _id runs the find command through mongoc_collection_read_command_with_opts (the
 * driver's read path: session, read preference and concern, retryable read) and takes the
 * document from cursor.firstBatch. libmongoc 1.23's cursor API (find_with_opts + cursor_next)
 * selects the server twice per find (once to choose OP_QUERY or find, once to run it), and each
 * selection copies the server description, re-parsing the stored hello reply: about 35k of
 * 117k instructions per find. LOADGEN_FIND_CURSOR=1 uses the cursor API instead. */
#include <arpa/inet.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { RECORDS = 10000, MAX_SAMPLES = 4000000 };

static const char *mode, *target, *workload;
static int threads;
static double seconds;
static volatile int stop_flag;
static long fixed_ops;
static int find_with_cursor;

typedef struct {
    int index;
    double *samples;
    long count, capacity;
} worker_t;

/* This process's user+system CPU so far, in microseconds. */
static double cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static unsigned next_random(unsigned *state) {
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) % RECORDS;
}

/* The workload, decided once (not a strcmp per operation). */
enum { W_INSERT, W_FIND, W_UPDATE, W_YCSB_A, W_YCSB_B };
static int workload_kind;

static int parse_workload(const char *name) {
    if (strcmp(name, "insert") == 0) return W_INSERT;
    if (strcmp(name, "find") == 0) return W_FIND;
    if (strcmp(name, "update") == 0) return W_UPDATE;
    if (strcmp(name, "ycsb-a") == 0) return W_YCSB_A;
    if (strcmp(name, "ycsb-b") == 0) return W_YCSB_B;
    fprintf(stderr, "unknown workload %s\n", name);
    exit(2);
}

/* A find by _id through the cursor API: true when the document was returned. */
static bool find_by_cursor(mongoc_collection_t *c, const bson_t *filter, const bson_t *opts, bson_error_t *error) {
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    const bson_t *found;
    bool ok = mongoc_cursor_next(cur, &found);
    if (!ok && !mongoc_cursor_error(cur, error)) snprintf(error->message, sizeof error->message, "no document");
    mongoc_cursor_destroy(cur);
    return ok;
}

/* A find by _id as one find command ({find, filter, limit: 1, singleBatch: true}) run by the
 * driver's read-command path: true when cursor.firstBatch holds a document. */
static bool find_by_command(mongoc_collection_t *c, bson_t *cmd, int64_t id, bson_error_t *error) {
    bson_t filter, reply;
    bson_reinit(cmd);
    BSON_APPEND_UTF8(cmd, "find", "usertable");
    BSON_APPEND_DOCUMENT_BEGIN(cmd, "filter", &filter);
    BSON_APPEND_INT64(&filter, "_id", id);
    bson_append_document_end(cmd, &filter);
    BSON_APPEND_INT64(cmd, "limit", 1);
    BSON_APPEND_BOOL(cmd, "singleBatch", true);
    bool ok = mongoc_collection_read_command_with_opts(c, cmd, NULL, NULL, &reply, error);
    if (ok) {
        bson_iter_t it, doc;
        ok = bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "cursor.firstBatch.0", &doc) &&
             BSON_ITER_HOLDS_DOCUMENT(&doc);
        if (!ok) snprintf(error->message, sizeof error->message, "no document");
    }
    bson_destroy(&reply);
    return ok;
}

/* One thread: its own single-threaded mongoc client (one connection), used the way an
 * application uses the driver: insert_one, a find (see find_by_command), update_one, with the
 * driver's implicit sessions. What is the benchmark's own is done once per thread: the find
 * options, the update's $set document and the filter's storage (reinitialised per operation). */
static void *mongo_worker(void *arg) {
    worker_t *w = arg;
    mongoc_client_t *client = mongoc_client_new(target);
    mongoc_collection_t *c = mongoc_client_get_collection(client, "bench", "usertable");
    unsigned seed = 7919u * (w->index + 1);
    long inserted = 0;
    bson_error_t error;
    char field[101];
    memset(field, 'x', 100);
    field[100] = 0;
    bson_t *opts = BCON_NEW("limit", BCON_INT64(1), "singleBatch", BCON_BOOL(true));
    bson_t *u = BCON_NEW("$set", "{", "f", BCON_UTF8(field), "}");
    bson_t q, doc, cmd;
    bson_init(&q);
    bson_init(&doc);
    bson_init(&cmd);
    while (!stop_flag && w->count < w->capacity) {
        double t0 = now_us();
        bool ok = true;
        if (workload_kind == W_INSERT) {
            bson_reinit(&doc);
            BSON_APPEND_INT64(&doc, "_id", 1000000000LL * (w->index + 1) + inserted++);
            BSON_APPEND_UTF8(&doc, "f", field);
            ok = mongoc_collection_insert_one(c, &doc, NULL, NULL, &error);
        } else {
            unsigned r = next_random(&seed);
            int read = workload_kind == W_FIND;
            if (workload_kind == W_YCSB_A || workload_kind == W_YCSB_B) {
                int roll = (int)(next_random(&seed) % 100);
                read = roll < (workload_kind == W_YCSB_A ? 50 : 95);
            }
            if (read && !find_with_cursor) {
                ok = find_by_command(c, &cmd, (int64_t)r, &error);
            } else {
                bson_reinit(&q);
                BSON_APPEND_INT64(&q, "_id", (int64_t)r);
                ok = read ? find_by_cursor(c, &q, opts, &error) : mongoc_collection_update_one(c, &q, u, NULL, NULL, &error);
            }
        }
        if (!ok) {
            fprintf(stderr, "operation failed: %s\n", error.message);
            exit(1);
        }
        w->samples[w->count++] = now_us() - t0;
    }
    bson_destroy(&q);
    bson_destroy(&doc);
    bson_destroy(&cmd);
    bson_destroy(opts);
    bson_destroy(u);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    return NULL;
}

static void *echo_worker(void *arg) {
    worker_t *w = arg;
    char host[256];
    snprintf(host, sizeof host, "%s", target);
    char *colon = strrchr(host, ':');
    *colon = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    inet_pton(AF_INET, host, &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        exit(1);
    }
    char buf[64] = {0};
    while (!stop_flag && w->count < w->capacity) {
        double t0 = now_us();
        if (write(fd, buf, sizeof buf) != sizeof buf) exit(1);
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t n = read(fd, buf + got, sizeof buf - got);
            if (n <= 0) exit(1);
            got += (size_t)n;
        }
        w->samples[w->count++] = now_us() - t0;
    }
    close(fd);
    return NULL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void populate(void) {
    mongoc_client_t *client = mongoc_client_new(target);
    mongoc_collection_t *c = mongoc_client_get_collection(client, "bench", "usertable");
    mongoc_collection_drop(c, NULL);
    bson_t *docs[1000];
    for (int base = 0; base < RECORDS; base += 1000) {
        for (int i = 0; i < 1000; i++) docs[i] = BCON_NEW("_id", BCON_INT64(base + i), "f", BCON_UTF8("initial"));
        bson_error_t error;
        if (!mongoc_collection_insert_many(c, (const bson_t **)docs, 1000, NULL, NULL, &error)) {
            fprintf(stderr, "populate: %s\n", error.message);
            exit(1);
        }
        for (int i = 0; i < 1000; i++) bson_destroy(docs[i]);
    }
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: loadgen mongo|echo TARGET WORKLOAD THREADS SECONDS\n");
        return 2;
    }
    mode = argv[1];
    target = argv[2];
    workload = argv[3];
    threads = atoi(argv[4]);
    seconds = atof(argv[5]);
    int mongo = strcmp(mode, "mongo") == 0;
    if (mongo) workload_kind = parse_workload(workload);
    const char *ops_env = getenv("LOADGEN_OPS"), *no_populate = getenv("LOADGEN_NO_POPULATE");
    fixed_ops = ops_env ? atol(ops_env) : 0;
    const char *cursor_env = getenv("LOADGEN_FIND_CURSOR");
    find_with_cursor = cursor_env && strcmp(cursor_env, "1") == 0;
    if (mongo) {
        mongoc_init();
        if (strcmp(workload, "insert") != 0 && !(no_populate && strcmp(no_populate, "1") == 0)) populate();
    }
    worker_t *workers = calloc(threads, sizeof *workers);
    pthread_t *ids = calloc(threads, sizeof *ids);
    double start = now_us(), cpu_start = cpu_us();
    for (int i = 0; i < threads; i++) {
        workers[i].index = i;
        workers[i].capacity = fixed_ops > 0 ? fixed_ops : MAX_SAMPLES / threads > 200000 ? MAX_SAMPLES / threads : 200000;
        workers[i].samples = malloc(sizeof(double) * workers[i].capacity);
        pthread_create(&ids[i], NULL, mongo ? mongo_worker : echo_worker, &workers[i]);
    }
    if (fixed_ops <= 0) {
        usleep((useconds_t)(seconds * 1e6));
        stop_flag = 1;
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total += workers[i].count;
    }
    double elapsed = (now_us() - start) / 1e6, cpu = cpu_us() - cpu_start;
    double *all = malloc(sizeof(double) * (total ? total : 1));
    long k = 0;
    for (int i = 0; i < threads; i++)
        for (long j = 0; j < workers[i].count; j++) all[k++] = workers[i].samples[j];
    qsort(all, total, sizeof(double), compare);
    double p50 = total ? all[total / 2] : 0, p99 = total ? all[(long)(total * 0.99)] : 0;
    printf("%s %d %ld %.0f %.1f %.1f", mongo ? workload : "echo", threads, total, total / elapsed, p50, p99);
    if (fixed_ops > 0) printf(" %.1f", total ? cpu / total : 0);
    printf("\n");
    if (mongo) mongoc_cleanup();
    return 0;
}
