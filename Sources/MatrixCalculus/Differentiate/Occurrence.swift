/// Whether an expression contains a given subexpression (a seed U), memoized over the shared
/// subexpressions.
struct Occurrence {
  private let target: Expr
  private var memo: [Expr: Bool] = [:]

  /// Looks for `target` itself.
  init(of target: Expr) { self.target = target }

  mutating func isIn(_ e: Expr) -> Bool {
    if e === target { return true }
    if let known = memo[e] { return known }
    let answer = e.anyChild { isIn($0) }
    memo[e] = answer
    return answer
  }
}
