/// A parsed, type-checked problem: inputs with shapes, opaque functions, definitions in
/// order, and goals.
public struct Problem: Sendable {
  /// A `derive OF wrt WRT [order k]` goal.
  public struct Goal: Sendable, Hashable {
    /// The name (or expression name) being differentiated.
    public var of: String
    /// The variable.
    public var wrt: String
    /// 1 for gradients, 2 for Hessians.
    public var order: Int
    /// Where the goal was written.
    public var range: SourceRange?
  }

  /// A named definition `NAME = EXPR`.
  public struct Definition: Sendable {
    /// The name.
    public var name: String
    /// The variable standing for it in later expressions.
    public var variable: Expr
    /// Its body.
    public var body: Expr
    /// Where it was written.
    public var range: SourceRange
  }

  /// Inputs by name (declared or inferred), in order of first appearance.
  public internal(set) var inputs: [(name: String, expr: Expr, type: TypeSpec)] = []
  /// Opaque functions (`function` or `elementwise`) by name.
  public internal(set) var functions: [String: TypeSpec] = [:]
  /// Definitions in the order written; each may use the ones before it.
  public internal(set) var definitions: [Definition] = []
  /// Goals of a problem file.
  public internal(set) var goals: [Goal] = []

  /// The input or definition named `name`.
  public func expr(named name: String) -> Expr? {
    if let definition = definitions.last(where: { $0.name == name }) { return definition.variable }
    return inputs.first { $0.name == name }?.expr
  }

  /// The definition body of a defined name.
  public func definition(of variable: Expr) -> Definition? {
    definitions.first { $0.variable == variable }
  }
}
