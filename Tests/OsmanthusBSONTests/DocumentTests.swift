import Testing

@testable import OsmanthusBSON
