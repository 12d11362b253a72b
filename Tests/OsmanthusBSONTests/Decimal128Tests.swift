import Testing

@testable import OsmanthusBSON

struct Decimal128Tests {
    @Test func stringsRoundTripInScientificForm() throws {
        let cases: [(String, String)] = [
            ("0", "0"), ("-0", "-0"), ("0.1", "0.1"), ("1.50", "1.50"), ("1E3", "1E+3"),
            ("123E-10", "1.23E-8"),
            ("0.000001", "0.000001"), ("0.0000001", "1E-7"),
            ("-12345678901234567890123456789012.34", "-12345678901234567890123456789012.34"),
            (".5", "0.5"), ("5.", "5"), ("+7", "7"), ("1e6111", "1E+6111"), ("1E6112", "1.0E+6112"),
            ("0E+9999999", "0E+6111"), ("0E-9999999", "0E-6176"), ("inf", "Infinity"),
            ("-Infinity", "-Infinity"), ("nAn", "NaN"),
        ]
        for (input, expected) in cases {
            let value = try Decimal128(input)
            #expect(value.description == expected, "\(input)")
            #expect(
                try Decimal128(value.description) == value || value.isNaN,
                "\(input) reparses to the same bits")
        }
    }

    @Test func inexactOrMalformedTextIsRejected() throws {
        for bad in [
            "", ".", "e5", "1e", "1..2", "--1", "1 ", " 1", "Infinit", "NaN1", "1E+99999999999", "1E-6177",
            "12345678901234567890123456789012345", "0x10",
        ] {
            #expect(throws: BSONError.self, "\(bad)") { try Decimal128(bad) }
        }
        // 35 digits, but the last is a zero that drops exactly.
        let exact = try Decimal128("12345678901234567890123456789012340")
        #expect(exact.description == "1.234567890123456789012345678901234E+34")
    }

    @Test func bitsFollowTheBIDLayout() throws {
        let one = try Decimal128("1")
        #expect(one.high == 0x3040_0000_0000_0000 && one.low == 1)
        #expect(try Decimal128("-1.0").high == 0xB03E_0000_0000_0000)
        #expect(Decimal128(Int64(-42)) == (try Decimal128("-42")))
        #expect(Decimal128.infinity.high == 0x7800_0000_0000_0000)
        #expect(Decimal128.nan.isNaN && !Decimal128.nan.isFinite)
    }

    @Test func nonCanonicalCoefficientsReadAsZero() {
        // The "large coefficient" form and coefficients ≥ 10^34 are zeros with their exponent.
        #expect(Decimal128(high: 0x6C10_0000_0000_0000, low: 0).description == "0")
        #expect(Decimal128(high: 0x3041_ED09_BEAD_87C0, low: 0x378D_8E64_0000_0000).isZero)
    }

    @Test func randomValuesRoundTripThroughText() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let coefficient =
                UInt128(random.next() % 10_000_000_000_000_000)
                * UInt128(random.next() % 1_000_000_000_000_000)
            let exponent = Int(random.next() % 12_288) - 6176
            let value = Decimal128(
                negative: random.next() % 2 == 0, coefficient: coefficient, exponent: exponent)
            #expect(try Decimal128(value.description) == value, "\(value)")
        }
    }

    @Test func doubleValueIsNearest() throws {
        #expect(try Decimal128("0.1").doubleValue == 0.1)
        #expect(try Decimal128("-2.5E+300").doubleValue == -2.5e300)
        #expect(Decimal128.negativeInfinity.doubleValue == -.infinity)
    }
}
