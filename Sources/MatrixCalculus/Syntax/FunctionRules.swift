import Synchronization

/// The functions every problem knows that are defined by their meaning: Rules/functions.rules
/// (softplus, silu), and a `--rules` directory's functions.rules after it. Each text is read
/// once; its operations are shared by every problem that uses them.
enum FunctionRules {
  /// The rule file's name.
  static let fileName = "functions.rules"

  /// The definitions in force (the embedded file and any added), or nil for the embedded file
  /// alone; set by ``RuleSet/withRaiseRules(_:)``.
  @TaskLocal static var replaced: String? = nil

  /// The embedded Rules/functions.rules.
  static var embeddedText: String {
    EmbeddedRules.files.first { $0.name == fileName }?.text ?? ""
  }

  /// What a text defines: the operations by name and, for the certificate, each one's
  /// parameters and body as written.
  struct Loaded: Sendable {
    var operations: [String: ElementwiseOperation] = [:]
    var written: [String: (parameters: [String], body: SyntaxExpr)] = [:]
  }

  private static let cache = Mutex<[String: Loaded]>([:])
  /// The embedded file's functions, read once (every problem asks).
  private static let embedded = Result { try load(embeddedText) }

  /// The functions in force.
  ///
  /// - Throws: ``MatcalcError/rule(_:file:line:)`` for a definition that does not check.
  static func current() throws -> Loaded {
    guard let text = replaced else { return try embedded.get() }
    if let known = cache.withLock({ $0[text] }) { return known }
    let loaded = try load(text)
    cache.withLock { $0[text] = loaded }
    return loaded
  }

  /// Checks every statement of `text`, each a function definition. An error names `file` and
  /// its line there, `text`'s line `firstLine` being that file's first.
  static func load(_ text: String, file: String = fileName, firstLine: Int = 1) throws -> Loaded {
    do {
      var parser = try Parser(text)
      let statements = try parser.statements()
      for statement in statements {
        let range: SourceRange
        switch statement {
        case .function: continue
        case .declaration(_, _, let at), .definition(_, _, let at),
          .indexDefinition(_, _, _, let at), .goal(_, _, _, let at):
          range = at
        }
        throw MatcalcError.syntax(
          "\(file) holds function definitions only ('NAME(t) = EXPR')", range)
      }
      var checker = TypeChecker(source: text)
      checker.loadsFunctionRules = false
      _ = try checker.check(statements)
      var loaded = Loaded()
      loaded.operations = checker.problem.operations
      loaded.written = checker.problem.written?.functions ?? [:]
      return loaded
    } catch let error as MatcalcError {
      let line = (error.range?.line ?? firstLine) - firstLine + 1
      throw MatcalcError.rule(error.message, file: file, line: max(line, 1))
    }
  }
}
