import OsmanthusBSON
import OsmanthusStorage

/// The error of the document layer. Codes and names are MongoDB's, so the server maps them 1:1
/// into `{ok: 0, code, codeName, errmsg}` (SPEC.md §12).
public struct OsmanthusError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        public let value: Int32
        public let name: String
        public init(_ value: Int32, _ name: String) {
            self.value = value
            self.name = name
        }

        public static let internalError = Code(1, "InternalError")
        public static let badValue = Code(2, "BadValue")
        public static let noSuchKey = Code(4, "NoSuchKey")
        public static let failedToParse = Code(9, "FailedToParse")
        public static let typeMismatch = Code(14, "TypeMismatch")
        public static let illegalOperation = Code(20, "IllegalOperation")
        public static let namespaceNotFound = Code(26, "NamespaceNotFound")
        public static let indexNotFound = Code(27, "IndexNotFound")
        public static let pathNotViable = Code(28, "PathNotViable")
        public static let conflictingUpdateOperators = Code(40, "ConflictingUpdateOperators")
        public static let cursorNotFound = Code(43, "CursorNotFound")
        public static let namespaceExists = Code(48, "NamespaceExists")
        public static let maxTimeMSExpired = Code(50, "MaxTimeMSExpired")
        public static let dollarPrefixedFieldName = Code(52, "DollarPrefixedFieldName")
        public static let invalidIdField = Code(53, "InvalidIdField")
        public static let notSingleValueField = Code(54, "NotSingleValueField")
        public static let emptyFieldName = Code(56, "EmptyFieldName")
        public static let commandNotFound = Code(59, "CommandNotFound")
        public static let immutableField = Code(66, "ImmutableField")
        public static let cannotCreateIndex = Code(67, "CannotCreateIndex")
        public static let indexAlreadyExists = Code(68, "IndexAlreadyExists")
        public static let invalidOptions = Code(72, "InvalidOptions")
        public static let invalidNamespace = Code(73, "InvalidNamespace")
        public static let indexOptionsConflict = Code(85, "IndexOptionsConflict")
        public static let indexKeySpecsConflict = Code(86, "IndexKeySpecsConflict")
        public static let writeConflict = Code(112, "WriteConflict")
        public static let commandNotSupported = Code(115, "CommandNotSupported")
        public static let conflictingOperationInProgress = Code(117, "ConflictingOperationInProgress")
        public static let documentValidationFailure = Code(121, "DocumentValidationFailure")
        public static let notImplemented = Code(238, "NotImplemented")
        public static let changeStreamHistoryLost = Code(286, "ChangeStreamHistoryLost")
        public static let invalidResumeToken = Code(260, "InvalidResumeToken")
        public static let changeStreamFatalError = Code(280, "ChangeStreamFatalError")
        /// Change streams on a database opened with the change log off.
        public static let location40573 = Code(40573, "Location40573")
        public static let location = Code(2, "Location")
        public static let invalidPipelineOperator = Code(168, "InvalidPipelineOperator")
        public static let conversionFailure = Code(241, "ConversionFailure")
        public static let queryExceededMemoryLimitNoDiskUseAllowed = Code(292, "QueryExceededMemoryLimitNoDiskUseAllowed")
        // Assertion codes without a name; MongoDB reports them as "Location<code>".
        public static let location15975 = Code(15975, "Location15975")  // bad $sort key ordering
        public static let location15983 = Code(15983, "Location15983")  // expression object with several $-fields
        public static let location16020 = Code(16020, "Location16020")  // expression operator arity
        public static let location16410 = Code(16410, "Location16410")  // field name starting with '$'
        public static let location17276 = Code(17276, "Location17276")  // undefined variable
        public static let location31250 = Code(31250, "Location31250")  // projection path collision
        public static let location31253 = Code(31253, "Location31253")  // inclusion in an exclusion projection
        public static let location31254 = Code(31254, "Location31254")  // exclusion in an inclusion projection
        public static let location40081 = Code(40081, "Location40081")  // $in expression without an array
        public static let location17124 = Code(17124, "Location17124")  // $size expression without an array
        public static let location15952 = Code(15952, "Location15952")  // unknown $group accumulator
        public static let location15955 = Code(15955, "Location15955")  // $group without _id
        public static let location16436 = Code(16436, "Location16436")  // $group field that is not an accumulator
        public static let location40323 = Code(40323, "Location40323")  // pipeline stage with several fields
        public static let location40324 = Code(40324, "Location40324")  // unknown pipeline stage
        public static let location40601 = Code(40601, "Location40601")  // $out not the last stage
        /// An unnamed assertion code, reported as "Location<code>" as MongoDB does.
        static func location(_ value: Int32) -> Code { Code(value, "Location\(value)") }
        public static let location51246 = Code(51246, "Location51246")  // positional projection found no element
        public static let cannotIndexParallelArrays = Code(171, "CannotIndexParallelArrays")
        public static let duplicateKey = Code(11000, "DuplicateKey")
        public static let bsonObjectTooLarge = Code(10334, "BSONObjectTooLarge")
        public static let authenticationFailed = Code(18, "AuthenticationFailed")
        public static let unauthorized = Code(13, "Unauthorized")
        public static let storageError = Code(8, "UnknownError")
    }

    public var code: Code
    public var message: String
    /// Extra fields MongoDB attaches to some errors (DuplicateKey's keyPattern and keyValue).
    public var info: Document?
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, info: Document? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.info = info
        self.cause = cause
    }

    public var description: String { "\(code.name) (\(code.value)): \(message)" }

    /// Wraps lower layers' errors: storage failures keep their cause.
    public static func wrapping(_ error: any Error) -> OsmanthusError {
        switch error {
        case let e as OsmanthusError: return e
        case let e as StorageError: return OsmanthusError(.storageError, e.description, cause: e)
        case let e as BSONError: return OsmanthusError(.badValue, e.description, cause: e)
        default: return OsmanthusError(.internalError, "\(error)")
        }
    }
}
