/// OsmanthusWire: MongoDB wire protocol messages (SPEC.md §13).
public enum Wire {}
