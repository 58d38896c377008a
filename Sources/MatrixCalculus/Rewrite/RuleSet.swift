import Synchronization
import Foundation

/// The rules the engine runs on, loaded from rule files and indexed by kind and head.
public struct RuleSet: Sendable {
  /// Every rule, in file then line order.
  public let rules: [Rule]
  /// This set among the sets made in this process (what a cache of derived results keys on:
  /// a derivative derived with one set is not another set's).
  let identity: Int = RuleSet.counter.add(1, ordering: .relaxed).newValue
  private static let counter = Atomic<Int>(0)
  private struct Key: Hashable {
    /// The kind as a flag: `Rule.Kind` is a raw-value enum, which would hash its spelling.
    let isDifferential: Bool
    let head: Rule.Head

    init(kind: Rule.Kind, head: Rule.Head) {
      isDifferential = kind == .differential
      self.head = head
    }
  }

  private let byHead: [Key: [Rule]]
  /// Raising identities that replace or add to the embedded Rules/raise.rules, by name, or
  /// nil for the embedded ones (parsed only when something is raised, not at start-up);
  /// ``RaiseRules`` uses them while ``withRaiseRules(_:)`` runs.
  let raise: [String: RaiseRule]?
  /// The functions defined by their meaning, Rules/functions.rules followed by a --rules
  /// directory's functions.rules, or nil for the embedded file alone.
  var functions: String?

  /// Builds a set from loaded rules; rejects duplicate names.
  public init(_ rules: [Rule]) throws {
    try self.init(rules, raise: nil)
  }

  init(_ rules: [Rule], raise: [String: RaiseRule]?) throws {
    self.raise = raise
    var seen: [String: Rule] = [:]
    for rule in rules {
      if let first = seen[rule.name] {
        throw MatcalcError.rule(
          "duplicate rule name '\(rule.name)' (first at \(first.location))", file: rule.file,
          line: rule.line)
      }
      seen[rule.name] = rule
    }
    self.rules = rules
    var index: [Key: [Rule]] = [:]
    for rule in rules { index[Key(kind: rule.kind, head: rule.head), default: []].append(rule) }
    byHead = index
  }

  /// The rules of `kind` whose left side has the head of `e`.
  func candidates(_ kind: Rule.Kind, for e: Expr) -> [Rule] {
    byHead[Key(kind: kind, head: Rule.head(of: e))] ?? []
  }

  /// The rules compiled into the binary from Rules/*.rules.
  public static let embedded: RuleSet = {
    do {
      // raise.rules holds index-to-matrix identities, read by IndexForm/RaiseRules.
      let files = EmbeddedRules.files.filter {
        $0.name != RaiseRules.fileName && $0.name != FunctionRules.fileName
      }
      return try RuleSet(files.flatMap { try RuleFile.parse($0.text, file: $0.name) })
    } catch {
      // The embedded rules are validated by the test suite; a broken build still must not
      // trap, so it runs with no rules and every derivation reports what it cannot do.
      FileHandle.standardError.write(Data("matcalc: embedded rules: \(error)\n".utf8))
      return RuleSet.empty
    }
  }()

  /// No rules.
  public static let empty: RuleSet = {
    guard let set = try? RuleSet([]) else { preconditionFailure("an empty rule set is valid") }
    return set
  }()

  /// Loads every `*.rules` file of a directory (sorted by name) after the embedded ones: a
  /// rule named like an embedded one replaces it, the others are added; a `raise.rules`
  /// there replaces or adds raising identities the same way.
  public static func embedded(plus directory: String) throws -> RuleSet {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
      .filter { $0.hasSuffix(".rules") }.sorted()
    var rules = RuleSet.embedded.rules
    var raise = RuleSet.embedded.raise
    var functions: String?
    for name in names {
      let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
      if name == FunctionRules.fileName {
        // Checked now, so that a wrong definition is reported with its file and line.
        let embedded = FunctionRules.embeddedText
        let joined = embedded + "\n" + text
        _ = try FunctionRules.load(
          joined, file: name,
          firstLine: embedded.split(separator: "\n", omittingEmptySubsequences: false).count + 1)
        functions = joined
        continue
      }
      if name == RaiseRules.fileName {
        var replaced = raise ?? RaiseRules.embedded
        for rule in try RaiseRules.parse(text, file: name) { replaced[rule.name] = rule }
        raise = replaced
        continue
      }
      for rule in try RuleFile.parse(text, file: name) {
        if let index = rules.prefix(RuleSet.embedded.rules.count).firstIndex(where: {
          $0.name == rule.name
        }) {
          rules[index] = rule
        } else {
          rules.append(rule)
        }
      }
    }
    var set = try RuleSet(rules, raise: raise)
    set.functions = functions
    return set
  }

  /// Runs `body` with this set's raising identities in force (index definitions read, index
  /// form raised); derivations given this set run under it already.
  public func withRaiseRules<T>(_ body: () throws -> T) rethrows -> T {
    try FunctionRules.$replaced.withValue(functions) {
      try RaiseRules.$replaced.withValue(raise, operation: body)
    }
  }
}

/// Parses one rule file (see ../shared/STYLE.md, "Rules/").
public enum RuleFile {
  /// Parses the rules of one file.
  ///
  /// - Throws: ``MatcalcError/rule(_:file:line:)`` with the file and line of the first problem.
  public static func parse(_ text: String, file: String) throws -> [Rule] {
    var rules: [Rule] = []
    for (line, content, lets) in RuleLines.read(text) {
      guard let colon = content.firstIndex(of: ":") else {
        throw MatcalcError.rule("expected 'name: left => right'", file: file, line: line)
      }
      let name = content[..<colon].trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty,
        name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
      else {
        throw MatcalcError.rule(
          "rule names are kebab-case, found '\(name)'", file: file, line: line)
      }
      rules.append(
        try parseRule(
          name: name, body: String(content[content.index(after: colon)...]), lets: lets,
          file: file, line: line))
    }
    return rules
  }

  private static func split(_ text: String, _ word: String) -> (String, String?) {
    guard let range = text.range(of: " \(word) ") else { return (text, nil) }
    return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
  }

  private static func parseRule(
    name: String, body: String, lets: [String], file: String, line: Int
  ) throws -> Rule {
    func fail(_ message: String) -> MatcalcError { .rule(message, file: file, line: line) }
    guard let arrow = body.range(of: "=>") else { throw fail("expected '=>' in rule \(name)") }
    let leftText = String(body[..<arrow.lowerBound])
    var rest = String(body[arrow.upperBound...])
    var whereText: String?
    (rest, whereText) = split(rest, "where")
    var whenText: String?
    (rest, whenText) = split(rest, "when")
    let declarations = (lets + (whereText.map { [$0] } ?? [])).joined(separator: "; ")
    let source = "\(declarations)\n__left = \(leftText)\n__right = \(rest)"
    let problem: Problem
    do {
      var checker = TypeChecker(source: source)
      checker.allowsInference = false
      checker.allowsDifferentials = true
      var parser = try Parser(source)
      let statements = try parser.statements()
      try checker.check(statements)
      problem = checker.problem
    } catch let error as MatcalcError {
      throw fail("\(name): \(error.message)")
    }
    guard problem.definitions.count == 2 else { throw fail("\(name): expected two sides") }
    let left = problem.definitions[0].body
    let right = problem.definitions[1].body
    guard left.shape == right.shape else {
      throw fail("\(name): the sides have different shapes, \(left.shape) and \(right.shape)")
    }
    // Pattern variables are the declared names the left side uses.
    let leftNames = names(in: left)
    var variables: [String: Expr] = [:]
    for input in problem.inputs where leftNames.contains(input.name) {
      variables[input.name] = input.expr
    }
    let declared = Set(problem.inputs.map(\.name))
    for used in names(in: right) where declared.contains(used) && !leftNames.contains(used) {
      throw fail("\(name): '\(used)' appears on the right side only")
    }
    var domains: [(Rule.Domain, String)] = []
    for clause in (whenText ?? "").split(separator: ",") {
      let trimmed = clause.trimmingCharacters(in: .whitespaces)
      guard let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")"),
        let domain = Rule.Domain(rawValue: String(trimmed[..<open]))
      else {
        throw fail(
          "\(name): unknown domain '\(trimmed)'; use invertible, posdef, positive, nonzero")
      }
      let variable = String(
        trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
      guard variables[variable] != nil else {
        throw fail("\(name): domain of undeclared '\(variable)'")
      }
      domains.append((domain, variable))
    }
    let kind: Rule.Kind
    if case .differential = left.node { kind = .differential } else { kind = .simplification }
    return Rule(
      name: name, kind: kind, left: left, right: right, variables: variables, domains: domains,
      file: file, line: line)
  }

  private static func names(in e: Expr) -> Set<String> {
    var result = Set<String>()
    var stack = [e]
    while let next = stack.popLast() {
      if case .variable(let name, _, _) = next.node { result.insert(name) }
      stack += next.children
    }
    return result
  }
}
