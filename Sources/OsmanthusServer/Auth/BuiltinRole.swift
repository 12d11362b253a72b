import Osmanthus
import OsmanthusBSON

/// MongoDB's built-in roles that the server enforces (SPEC.md §13.3), and what each grants on
/// the database it is given on (the `*AnyDatabase` roles and `root` exist only on `admin` and
/// reach every database).
enum BuiltinRole: String, CaseIterable, Sendable {
    case read, readWrite, dbAdmin, userAdmin, dbOwner
    case readAnyDatabase, readWriteAnyDatabase, dbAdminAnyDatabase, userAdminAnyDatabase
    case clusterMonitor, clusterAdmin, backup, restore
    case root

    /// What a command needs on a database; a role grants some of these.
    enum Action: Sendable {
        /// Read documents and catalog (find, aggregate, listCollections...).
        case read
        /// Write documents, create and drop collections and indexes.
        case write
        /// Catalog administration (collMod, dropDatabase, indexes, stats).
        case dbAdmin
        /// Users of the database.
        case userAdmin
        /// Server state (serverStatus, currentOp of every client, hostInfo, getLog...).
        case monitorCluster
        /// Server operations (killOp, killAllSessions, compaction).
        case manageCluster
        /// Taking backups and snapshots.
        case takeBackup
    }

    var actions: Set<Action> {
        switch self {
        case .read, .readAnyDatabase: [.read]
        case .readWrite, .readWriteAnyDatabase: [.read, .write]
        case .dbAdmin, .dbAdminAnyDatabase: [.dbAdmin]
        case .userAdmin, .userAdminAnyDatabase: [.userAdmin]
        case .dbOwner: [.read, .write, .dbAdmin, .userAdmin]
        case .clusterMonitor: [.monitorCluster]
        case .clusterAdmin: [.monitorCluster, .manageCluster, .dbAdmin]
        // MongoDB's backup role reads everything it copies and the server state it reports.
        case .backup: [.read, .monitorCluster, .takeBackup]
        case .restore: [.write]
        case .root: [.read, .write, .dbAdmin, .userAdmin, .monitorCluster, .manageCluster, .takeBackup]
        }
    }

    /// Granted on `admin`, reaches every database (the cluster roles too).
    var anyDatabase: Bool {
        switch self {
        case .read, .readWrite, .dbAdmin, .userAdmin, .dbOwner: false
        default: true
        }
    }
}
