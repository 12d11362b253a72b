import OsmanthusBSON

@testable import Osmanthus

/// Shell-like document literals for the query and update tests: `{a: 1, "b.c": /x/i}` with
/// bare keys, `/regex/flags`, and `NumberLong(1)`, `NumberDecimal("1.5")`, `NumberInt(1)`,
/// `Date(ms)`, `Timestamp(t, i)`, `ObjectId("…")`, `MinKey`, `MaxKey`, `NaN`, `Infinity`,
/// `undefined` — turned into Extended JSON and parsed by `Document(extendedJSON:)`.
enum QueryFixtures {
    static func doc(_ text: String) -> Document {
        do {
            return try Document(extendedJSON: strictJSON(text))
        } catch {
            fatalError("bad fixture \(text) → \(strictJSON(text)): \(error)")
        }
    }

    static func value(_ text: String) -> BSONValue {
        do {
            return try BSONValue(extendedJSON: strictJSON(text))
        } catch {
            fatalError("bad fixture \(text) → \(strictJSON(text)): \(error)")
        }
    }

    static func docs(_ text: String) -> [Document] {
        guard case .array(let values) = value(text) else { fatalError("not an array: \(text)") }
        return values.map { $0.documentValue ?? Document() }
    }

    /// The code of the `OsmanthusError` `body` throws, or nil if it throws nothing.
    static func errorCode<T>(_ body: () throws -> T) -> Int32? {
        do {
            _ = try body()
            return nil
        } catch let error as OsmanthusError {
            return error.code.value
        } catch {
            return -1
        }
    }

    /// Rewrites the shell-like syntax into strict Extended JSON.
    static func strictJSON(_ text: String) -> String {
        let chars = Array(text)
        var out = ""
        var containers = [Character]()
        var expectKey = false
        var i = 0
        func isIdentifierStart(_ c: Character) -> Bool { c.isLetter || c == "_" || c == "$" }
        func isKeyCharacter(_ c: Character) -> Bool {
            c.isLetter || c.isNumber || c == "_" || c == "$" || c == "." || c == "[" || c == "]"
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\"":
                var j = i + 1
                while j < chars.count && chars[j] != "\"" { j += chars[j] == "\\" ? 2 : 1 }
                out += String(chars[i...min(j, chars.count - 1)])
                i = j + 1
                continue
            case "{":
                containers.append("{")
                expectKey = true
                out.append(c)
            case "[" where !expectKey:
                containers.append("[")
                out.append(c)
            case "}", "]":
                containers.removeLast()
                expectKey = false
                out.append(c)
            case ",":
                expectKey = containers.last == "{"
                out.append(c)
            case ":":
                expectKey = false
                out.append(c)
            case "/" where !expectKey:
                var j = i + 1
                var pattern = ""
                while j < chars.count && chars[j] != "/" {
                    if chars[j] == "\\" {
                        pattern.append(chars[j])
                        j += 1
                    }
                    pattern.append(chars[j])
                    j += 1
                }
                j += 1
                var flags = ""
                while j < chars.count && chars[j].isLetter {
                    flags.append(chars[j])
                    j += 1
                }
                out += "{\"$regularExpression\": {\"pattern\": \(jsonString(pattern)), \"options\": \"\(String(flags.sorted()))\"}}"
                i = j
                continue
            case "-" where i + 1 < chars.count && chars[i + 1] == "I":
                out += "{\"$numberDouble\": \"-Infinity\"}"
                i += "-Infinity".count
                continue
            default:
                if expectKey && (isIdentifierStart(c) || c.isNumber) {
                    var j = i
                    while j < chars.count && isKeyCharacter(chars[j]) { j += 1 }
                    out += jsonString(String(chars[i..<j]))
                    i = j
                    continue
                }
                if !expectKey && isIdentifierStart(c) {
                    var j = i
                    while j < chars.count && (chars[j].isLetter || chars[j].isNumber) { j += 1 }
                    let name = String(chars[i..<j])
                    var argument = ""
                    if j < chars.count && chars[j] == "(" {
                        var k = j + 1
                        while chars[k] != ")" { k += 1 }
                        argument = String(chars[(j + 1)..<k]).trimmingQuotes()
                        j = k + 1
                    }
                    out += constructor(name, argument)
                    i = j
                    continue
                }
                out.append(c)
            }
            i += 1
        }
        return out
    }

    private static func constructor(_ name: String, _ argument: String) -> String {
        switch name {
        case "true", "false", "null": return name
        case "NumberLong": return "{\"$numberLong\": \"\(argument)\"}"
        case "NumberInt": return "{\"$numberInt\": \"\(argument)\"}"
        case "NumberDecimal": return "{\"$numberDecimal\": \"\(argument)\"}"
        case "Double": return "{\"$numberDouble\": \"\(argument)\"}"
        case "Date": return "{\"$date\": {\"$numberLong\": \"\(argument)\"}}"
        case "ObjectId": return "{\"$oid\": \"\(argument)\"}"
        case "Timestamp":
            let parts = argument.split(separator: ",").map { $0.trimmingCharacters() }
            return "{\"$timestamp\": {\"t\": \(parts[0]), \"i\": \(parts[1])}}"
        case "MinKey": return "{\"$minKey\": 1}"
        case "MaxKey": return "{\"$maxKey\": 1}"
        case "NaN": return "{\"$numberDouble\": \"NaN\"}"
        case "Infinity": return "{\"$numberDouble\": \"Infinity\"}"
        case "undefined": return "{\"$undefined\": true}"
        case "Symbol": return "{\"$symbol\": \"\(argument)\"}"
        default: fatalError("unknown fixture constructor \(name)")
        }
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    fileprivate func trimmingQuotes() -> String {
        let trimmed = trimmingCharacters()
        guard trimmed.hasPrefix("\""), trimmed.hasSuffix("\""), trimmed.count >= 2 else { return trimmed }
        return String(trimmed.dropFirst().dropLast())
    }
}
