/// An array element's key in BSON: its index in decimal ("0", "1", … "10", …) and a NUL.
public enum ArrayKey {
    /// How many digits the key of element `index` (≥ 0) has, its NUL not counted: what sizing
    /// a document before writing it needs.
    @inline(__always)
    public static func digitCount(_ index: Int) -> Int {
        var digits = 1
        var rest = index
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }
}
