"""Many client threads at once: every write lands, every read sees its own writes."""
import threading


def test_sixteen_threads_insert_and_read(db, client):
    errors = []
    per_thread = 50

    def work(worker):
        try:
            collection = client[db.name].shared
            for i in range(per_thread):
                collection.insert_one({"_id": f"{worker}-{i}", "worker": worker, "i": i})
                if i % 10 == 9:
                    mine = collection.count_documents({"worker": worker})
                    assert mine == i + 1, (worker, i, mine)
            docs = list(collection.find({"worker": worker}).batch_size(7))
            assert sorted(d["i"] for d in docs) == list(range(per_thread))
        except Exception as error:  # reported below, with the thread's id
            errors.append((worker, repr(error)))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert db.shared.count_documents({}) == 16 * per_thread
