/* A second real driver against `osmanthus serve`: the MongoDB C driver (libmongoc from Debian).
 * Usage: mongoc_smoke URI. Inserts, finds, updates, deletes, runs admin commands and reads a
 * cursor across several batches; prints "ok" and exits 0, or names the failed step and exits 1.
 * Built and run by Tests/PythonTests/test_driver_smoke.py. */
#include <mongoc/mongoc.h>
#include <stdio.h>

#define CHECK(cond, step)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAILED %s: %s\n", step, error.message);         \
            return 1;                                                        \
        }                                                                    \
    } while (0)

static int run(mongoc_client_t *client) {
    bson_error_t error = {0};
    bson_t reply;

    bson_t *ping = BCON_NEW("ping", BCON_INT32(1));
    bool ok = mongoc_client_command_simple(client, "admin", ping, NULL, &reply, &error);
    bson_destroy(ping);
    bson_destroy(&reply);
    CHECK(ok, "ping");

    mongoc_database_t *db = mongoc_client_get_database(client, "csmoke");
    mongoc_database_drop(db, NULL);
    mongoc_collection_t *items = mongoc_client_get_collection(client, "csmoke", "items");

    /* insert: one, then many */
    bson_t *one = BCON_NEW("_id", BCON_INT32(-1), "name", BCON_UTF8("first"));
    ok = mongoc_collection_insert_one(items, one, NULL, NULL, &error);
    bson_destroy(one);
    CHECK(ok, "insert_one");
    enum { N = 250 };
    bson_t *docs[N];
    for (int i = 0; i < N; i++) docs[i] = BCON_NEW("_id", BCON_INT32(i), "n", BCON_INT32(i % 10));
    ok = mongoc_collection_insert_many(items, (const bson_t **)docs, N, NULL, NULL, &error);
    for (int i = 0; i < N; i++) bson_destroy(docs[i]);
    CHECK(ok, "insert_many");

    /* find one by _id */
    bson_t *filter = BCON_NEW("_id", BCON_INT32(-1));
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(items, filter, NULL, NULL);
    const bson_t *doc;
    bson_iter_t it;
    ok = mongoc_cursor_next(cursor, &doc) && bson_iter_init_find(&it, doc, "name") &&
         strcmp(bson_iter_utf8(&it, NULL), "first") == 0;
    mongoc_cursor_destroy(cursor);
    bson_destroy(filter);
    CHECK(ok, "find by _id");

    /* update: $inc on n == 3 documents */
    bson_t *q = BCON_NEW("n", BCON_INT32(3));
    bson_t *u = BCON_NEW("$inc", "{", "n", BCON_INT32(100), "}");
    bson_t update_reply;
    ok = mongoc_collection_update_many(items, q, u, NULL, &update_reply, &error);
    bson_destroy(q);
    bson_destroy(u);
    CHECK(ok, "update_many");
    ok = bson_iter_init_find(&it, &update_reply, "modifiedCount") && bson_iter_as_int64(&it) == N / 10;
    bson_destroy(&update_reply);
    CHECK(ok, "update_many modifiedCount");

    /* delete */
    bson_t *d = BCON_NEW("n", BCON_INT32(103));
    bson_t delete_reply;
    ok = mongoc_collection_delete_many(items, d, NULL, &delete_reply, &error);
    bson_destroy(d);
    CHECK(ok, "delete_many");
    ok = bson_iter_init_find(&it, &delete_reply, "deletedCount") && bson_iter_as_int64(&it) == N / 10;
    bson_destroy(&delete_reply);
    CHECK(ok, "delete_many deletedCount");

    /* a cursor across batches of 7: every remaining document once, in _id order */
    bson_t *all = bson_new();
    bson_t *opts = BCON_NEW("batchSize", BCON_INT32(7), "sort", "{", "_id", BCON_INT32(1), "}");
    cursor = mongoc_collection_find_with_opts(items, all, opts, NULL);
    int64_t seen = 0, last = -2;
    while (mongoc_cursor_next(cursor, &doc)) {
        if (!bson_iter_init_find(&it, doc, "_id")) break;
        int64_t id = bson_iter_as_int64(&it);
        if (id <= last) break;
        last = id;
        seen++;
    }
    ok = !mongoc_cursor_error(cursor, &error) && seen == 1 + N - N / 10;
    mongoc_cursor_destroy(cursor);
    bson_destroy(all);
    bson_destroy(opts);
    CHECK(ok, "cursor across batches");

    /* count */
    bson_t *empty = bson_new();
    int64_t count = mongoc_collection_count_documents(items, empty, NULL, NULL, NULL, &error);
    bson_destroy(empty);
    CHECK(count == 1 + N - N / 10, "count_documents");

    /* catalog */
    char **names = mongoc_database_get_collection_names_with_opts(db, NULL, &error);
    ok = names && names[0] && strcmp(names[0], "items") == 0 && !names[1];
    bson_strfreev(names);
    CHECK(ok, "list collections");

    ok = mongoc_database_drop(db, &error);
    CHECK(ok, "drop database");
    mongoc_collection_destroy(items);
    mongoc_database_destroy(db);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s URI\n", argv[0]);
        return 2;
    }
    mongoc_init();
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
    if (!uri) {
        fprintf(stderr, "bad URI: %s\n", error.message);
        return 2;
    }
    mongoc_client_t *client = mongoc_client_new_from_uri(uri);
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    int status = run(client);
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    if (status == 0) printf("ok\n");
    return status;
}
