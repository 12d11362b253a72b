import Glibc
import OsmanthusBSON
import Synchronization

/// Deletes documents whose TTL index date is older than `expireAfterSeconds`, every
/// `interval` seconds on a thread of its own, through the ordinary delete path (so their index
/// entries go in the same batch). Stops and is joined on `stop()` (database close).
final class TTLMonitor: @unchecked Sendable {
    // `stopRequested` is guarded by its Mutex; `thread` is set once in start, read in stop
    // (both from the thread that opens and closes the database).
    private let stopRequested = Mutex(false)
    private var thread: pthread_t?
    private let interval: Double
    private weak var database: Database?

    init(database: Database, interval: Double) {
        self.database = database
        self.interval = interval
    }

    func start() {
        final class Box {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }
        let box = Unmanaged.passRetained(Box { [self] in self.loop() }).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box)
        if rc == 0 { thread = t } else { Unmanaged<Box>.fromOpaque(box).release() }
    }

    func stop() {
        stopRequested.withLock { $0 = true }
        if let t = thread { pthread_join(t, nil) }
        thread = nil
    }

    private var stopping: Bool { stopRequested.withLock { $0 } }

    private func loop() {
        while !stopping {
            // Wait for the next pass in short naps so close() is not held up.
            var waited = 0.0
            while waited < interval && !stopping {
                usleep(20_000)
                waited += 0.02
            }
            if stopping { return }
            guard let database else { return }
            _ = try? database.expireDocuments(now: Clock.nowMillis())  // retried next tick
        }
    }
}

extension Database {
    /// One TTL pass: for each ready TTL index, deletes the documents whose indexed date (the
    /// earliest, for an array) is before now − expireAfterSeconds. Returns how many.
    @discardableResult
    func expireDocuments(now: Int64) throws -> Int {
        var deleted = 0
        for entry in catalog.all {
            for spec in indexCatalog.indexes(of: entry.id) where spec.state == .ready {
                guard let seconds = spec.expireAfterSeconds, let field = spec.fields.first?.path else { continue }
                let cutoff = now - seconds * 1000
                deleted += try collection(entry.name, in: entry.database).deleteMany([field: ["$lt": .datetime(cutoff)]])
            }
        }
        return deleted
    }
}
