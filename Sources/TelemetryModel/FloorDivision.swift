/// Integer division rounding towards negative infinity, for times before
/// the epoch: the block, window or step a timestamp falls in.
public func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
