import OsmanthusBSON

/// Multi-document atomic batches; see `Transaction` for the isolation they give.
///
/// ```swift
/// try db.transaction(retries: 3) { txn in
///     let accounts = txn.collection("accounts", in: "bank")
///     try accounts.updateOne(["_id": "a"], ["$inc": ["balance": -10]])
///     try accounts.updateOne(["_id": "b"], ["$inc": ["balance": 10]])
/// }
/// ```
extension Database {
    /// Runs `body` in a new transaction and commits what it wrote, all or nothing. An error
    /// thrown by `body` discards the writes and is rethrown. A conflict at commit is
    /// WriteConflict (112); with `retries` > 0, `body` is run again on a fresh snapshot up to
    /// that many more times first (so it must be safe to repeat).
    public func transaction<T>(retries: Int = 0, _ body: (Transaction) throws -> T) throws -> T {
        var attempt = 0
        while true {
            let txn = Transaction(database: self)
            defer { txn.end() }
            do {
                let result = try body(txn)
                try txn.commit()
                return result
            } catch let e as OsmanthusError where e.code == .writeConflict && attempt < retries {
                attempt += 1
            }
        }
    }

    /// A transaction driven by the caller rather than a closure (the server keeps one open
    /// across a session's commands): its snapshot is taken now; end it with `commit()` or
    /// `abort()`.
    public func startTransaction() -> Transaction {
        Transaction(database: self)
    }

    /// `transaction(retries:_:)` run on the database's blocking pool: the calling task waits
    /// without occupying its executor while `body` reads and the commit writes.
    public func transaction<T: Sendable>(
        retries: Int = 0, _ body: @escaping @Sendable (Transaction) throws -> T
    ) async throws -> T {
        try await pool.run { try self.transaction(retries: retries, body) }
    }
}
