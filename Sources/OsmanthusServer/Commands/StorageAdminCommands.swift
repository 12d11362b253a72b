import Osmanthus
import OsmanthusBSON
import OsmanthusStorage

/// Osmanthus's own admin commands (SPEC.md §14.6), for `osmanthus ... --server`: backups,
/// storage statistics, full compaction and snapshots of the running database. All run on a
/// command thread (they block for as long as the work takes) and only on `admin`.
enum StorageAdminCommands {
    static let all: [Command] = [
        Command(name: "osmanthusBackup", adminOnly: true, help: "backups: action create|list|verify|status", run: backup),
        Command(name: "osmanthusStats", adminOnly: true, help: "storage levels and sequence", run: stats),
        Command(name: "osmanthusCompact", adminOnly: true, help: "compacts the whole database", run: compact),
        Command(name: "osmanthusSnapshot", adminOnly: true, help: "checkpoint into a new directory", run: snapshot),
    ]

    static func backup(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard let scheduler = context.server.backups else {
            throw OsmanthusError(.illegalOperation, "backups are not configured on this server")
        }
        let action = try request.body.commandString("action", in: request.name) ?? "status"
        let repository = scheduler.repository
        do {
            switch action {
            case "create":
                let outcome = try scheduler.runNow()
                var reply: Document = [
                    "backup": .document(backupDocument(outcome.backup)),
                    "verified": .bool(outcome.verify?.isIntact ?? false),
                    "durationMillis": .int64(Int64(outcome.durationNanoseconds / 1_000_000)),
                ]
                if let prune = outcome.prune {
                    reply.append("prunedBackups", .array(prune.removedBackups.map { .string($0) }))
                    reply.append("prunedFiles", .int64(Int64(prune.removedFiles)))
                }
                if scheduler.configuration.remote != nil {
                    reply.append("pushed", .array(outcome.pushed.map { .string($0) }))
                }
                return reply
            case "list":
                return [
                    "repository": .string(repository.path),
                    "backups": .array(try repository.list().map { .document(backupDocument($0)) }),
                ]
            case "verify":
                let id: String
                if let given = try request.body.commandString("id", in: request.name) {
                    id = given
                } else if let newest = try repository.list().last {
                    id = newest.id
                } else {
                    throw OsmanthusError(.noSuchKey, "no backups in \(repository.path) to verify")
                }
                return verifyDocument(try repository.verify(id))
            case "status":
                return statusDocument(scheduler)
            default:
                throw OsmanthusError(.badValue, "unknown osmanthusBackup action '\(action)'; expected create, list, verify or status")
            }
        } catch {
            throw OsmanthusError.wrapping(error)
        }
    }

    static func backupDocument(_ b: BackupInfo) -> Document {
        var document: Document = [
            "id": .string(b.id), "sequence": .int64(Int64(clamping: b.sequence)), "createdAt": .int64(b.createdAt),
            "files": .int64(Int64(b.fileCount)), "bytes": .int64(Int64(clamping: b.totalBytes)),
            "copiedFiles": .int64(Int64(b.copiedFiles)), "reusedFiles": .int64(Int64(b.reusedFiles)),
        ]
        // Of the added tables, those hard-linked rather than copied (absent in older backups).
        if let linked = b.linkedFiles { document.append("linkedFiles", .int64(Int64(linked))) }
        return document
    }

    static func verifyDocument(_ r: VerifyReport) -> Document {
        [
            "id": .string(r.id), "checkedFiles": .int64(Int64(r.checkedFiles)),
            "checkedBytes": .int64(Int64(clamping: r.checkedBytes)), "intact": .bool(r.isIntact),
            "damage": .array(
                r.damage.map {
                    .document([
                        "name": .string($0.name), "path": .string($0.path), "kind": .string($0.problem.kind),
                        "problem": .string($0.problem.description),
                    ])
                }),
        ]
    }

    static func statusDocument(_ scheduler: BackupScheduler) -> Document {
        let s = scheduler.currentStatus
        let c = scheduler.configuration
        var reply: Document = [
            "repository": .string(c.repository), "schedule": .string(c.schedule.description),
            "retention": .string(c.retention.description), "successes": .int64(Int64(s.successes)),
            "failures": .int64(Int64(s.failures)),
        ]
        if let remote = c.remote { reply.append("remoteRepository", .string(remote.url)) }
        if let t = s.lastAttemptAt { reply.append("lastAttemptAt", .int64(t)) }
        if let t = s.lastSuccessAt { reply.append("lastSuccessAt", .int64(t)) }
        if let b = s.lastBackup { reply.append("lastBackup", .document(backupDocument(b))) }
        if let e = s.lastError { reply.append("lastError", .string(e)) }
        if let t = s.nextDueAt { reply.append("nextDueAt", .int64(t)) }
        return reply
    }

    static func stats(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let db = context.server.database.engine
        let sizes = db.levelSizes
        let counts = db.levelFileCounts
        return [
            "sequence": .int64(Int64(clamping: db.latestSequence)),
            "levels": .array(
                sizes.indices.map {
                    .document(["level": .int64(Int64($0)), "files": .int64(Int64(counts[$0])), "bytes": .int64(Int64(clamping: sizes[$0]))])
                }),
            "totalFiles": .int64(Int64(counts.reduce(0, +))),
            "totalBytes": .int64(Int64(clamping: sizes.reduce(0, +))),
        ]
    }

    static func compact(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let db = context.server.database.engine
        let before = db.levelSizes.reduce(0, +)
        do { try db.compactRange() } catch { throw OsmanthusError.wrapping(error) }
        return [
            "beforeBytes": .int64(Int64(clamping: before)),
            "afterBytes": .int64(Int64(clamping: db.levelSizes.reduce(0, +))),
            "files": .int64(Int64(db.levelFileCounts.reduce(0, +))),
        ]
    }

    static func snapshot(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard case .string(let path) = request.argument, !path.isEmpty else {
            throw OsmanthusError(.badValue, "osmanthusSnapshot takes the target directory: {osmanthusSnapshot: \"/path\"}")
        }
        do {
            let info = try context.server.database.engine.checkpoint(to: path)
            return [
                "path": .string(path), "sequence": .int64(Int64(clamping: info.sequence)),
                "tableCount": .int64(Int64(info.tableCount)), "tableBytes": .int64(Int64(clamping: info.tableBytes)),
                "logBytes": .int64(Int64(clamping: info.logBytes)),
            ]
        } catch {
            throw OsmanthusError.wrapping(error)
        }
    }
}
