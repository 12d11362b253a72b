/// OsmanthusServer: the MongoDB-compatible server (SPEC.md §13).
public enum OsmanthusServerInfo {
    public static let version = "0.1.0"
}
