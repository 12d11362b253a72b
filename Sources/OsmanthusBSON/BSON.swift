/// OsmanthusBSON: BSON documents, values, Extended JSON and Codable (SPEC.md §10).
public enum BSON {}
