import Foundation
import MatrixCalculus

/// The command-line tool: arguments in, text and an exit status out.
enum Matcalc {
  static let version = "matcalc 0.1.0"

  /// What a run printed.
  struct Output {
    var standardOutput = ""
    var standardError = ""

    mutating func print(_ text: String) { standardOutput += text + "\n" }
    mutating func error(_ text: String) { standardError += text + "\n" }
  }

  /// Runs the tool on `arguments` (without the program name). 0 on success, 1 when the input
  /// cannot be derived or checked, 2 on a usage error. `standardInput` is read only for
  /// `matcalc -`.
  static func run(
    _ arguments: [String], output: inout Output,
    standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }
  ) -> Int32 {
    let options: Options
    do {
      options = try Options.parse(arguments)
    } catch let error as Options.UsageError {
      output.error("error: \(error.message)")
      return 2
    } catch {
      output.error("error: \(error)")
      return 2
    }
    Limits.current = options.limits
    let rules: RuleSet
    do {
      rules = try options.rulesDirectory.map { try RuleSet.embedded(plus: $0) } ?? .embedded
    } catch let error as MatcalcError {
      output.error("error: \(error.message)")
      return 1
    } catch {
      let directory = options.rulesDirectory ?? ""
      output.error(
        "error: cannot read the rules in '\(directory)' (--rules): \(error.localizedDescription)")
      return 1
    }
    switch options.mode {
    case .help:
      output.print(Options.usage)
      return 0
    case .version:
      output.print(version)
      return 0
    case .derive(let expression, let wrt):
      do {
        if wrt.contains(",") {
          // Several variables: one backward pass, every gradient in terms of the shared δ's.
          let names = wrt.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
          return try emitSeveral(expression, names, rules: rules, options: options, output: &output)
        }
        let derivation = try deriveUnchecked(
          expression, wrt: wrt, where: options.statements, order: options.order, rules: rules)
        try checkSizes(options.sizes, of: derivation.problem)
        guard let piece = try emit(derivation, options: options, output: &output) else {
          return 1
        }
        output.print(try joined([piece], options: options))
        return 0
      } catch let error as MatcalcError {
        output.error(report(error, statements: options.statements, expression: expression))
        return 1
      } catch let error as Options.UsageError {
        output.error("error: \(error.message)")
        return 2
      } catch {
        output.error("error: \(error)")
        return 1
      }
    case .file(let argument):
      // `-` is the problem on standard input, named <stdin> in messages.
      let path = argument == "-" ? "<stdin>" : argument
      let source: String
      do {
        if argument == "-" {
          guard let text = String(data: standardInput(), encoding: .utf8) else {
            output.error("error: standard input is not UTF-8 text")
            return 1
          }
          source = text
        } else {
          source = try String(contentsOfFile: path, encoding: .utf8)
        }
      } catch {
        output.error("error: cannot read \(path)")
        return 1
      }
      let problem: Problem
      do {
        problem = try rules.withRaiseRules { try parseProblem(source) }
        try checkSizes(options.sizes, of: problem)
      } catch let error as MatcalcError {
        output.error(located(error, path: path, source: source))
        return 1
      } catch let error as Options.UsageError {
        output.error("error: \(error.message)")
        return 2
      } catch {
        output.error("error: \(error)")
        return 1
      }
      guard !problem.goals.isEmpty else {
        output.error("error: \(path) has no goal; add a line such as 'derive l wrt W'")
        return 1
      }
      // Every goal that succeeds is printed, as one output (one JSON array, one LaTeX
      // document, one tuple); each one that fails is reported with its position, and the
      // status says that one did.
      var pieces: [Piece] = []
      var failures = 0
      for goal in problem.goals {
        do {
          let piece = try emitGoal(
            goal, of: problem, source: source, path: path, rules: rules, options: options,
            output: &output)
          guard let piece else {
            failures += 1
            continue
          }
          pieces.append(piece)
        } catch let error as MatcalcError {
          // An error of no position of its own is the goal's (derive l wrt y: y unknown).
          output.error(located(error, at: goal.range, path: path, source: source))
          failures += 1
        } catch {
          output.error("error: \(path):\(goal.range.map { "\($0): " } ?? "")\(error)")
          failures += 1
        }
      }
      do {
        if !pieces.isEmpty { output.print(try joined(pieces, options: options)) }
      } catch {
        output.error("error: \(error)")
        return 1
      }
      if failures > 0 && problem.goals.count > 1 {
        let printed = problem.goals.count - failures
        output.error(
          "error: \(failures) of \(problem.goals.count) goals failed"
            + (printed == 1
              ? " (the other is printed)"
              : printed > 1 ? " (the \(printed) others are printed)" : ""))
      }
      return failures == 0 ? 0 : 1
    }
  }

  /// One goal of a problem file derived, checked and rendered; `nil` when its check failed
  /// (reported, with the goal's position).
  private static func emitGoal(
    _ goal: Problem.Goal, of problem: Problem, source: String, path: String, rules: RuleSet,
    options: Options, output: inout Output
  ) throws -> Piece? {
    // A goal by a symmetric input differentiates f as written (every entry independent).
    let symmetric = problem.inputs.contains {
      $0.name == goal.wrt && $0.type == .symmetric($0.expr.shape.rows)
    }
    let goalProblem =
      symmetric
      ? try rules.withRaiseRules { try parseProblem(source, differentiating: [goal.wrt]) }
      : problem
    guard let objective = goalProblem.expr(named: goal.of) else {
      throw MatcalcError.unknownName(
        goal.of, goal.range ?? SourceRange(line: 0, column: 0, length: 0))
    }
    let derivation = try Derivation(
      of: objective, named: goal.of, withRespectTo: goal.wrt, in: goalProblem,
      order: max(goal.order, options.order), rules: rules)
    return try emit(
      derivation, options: options, output: &output,
      position: "\(path):" + (goal.range.map { "\($0): " } ?? ""))
  }

  /// An error of a problem file as `error: FILE:LINE:COLUMN: message` with the line and a
  /// caret; an error without a position of its own takes `range` (its goal's).
  static func located(
    _ error: MatcalcError, at range: SourceRange? = nil, path: String, source: String
  ) -> String {
    let text: String
    if error.range == nil, let range {
      // Rendered at the goal: the message as it is, the goal's line and a caret.
      switch error {
      case .unsupported(let message, _):
        text = MatcalcError.unsupported(message, range).rendered(source: source)
      case .limit(let message, _):
        text = MatcalcError.limit(message, range).rendered(source: source)
      default: text = MatcalcError.syntax(error.message, range).rendered(source: source)
      }
    } else {
      text = error.rendered(source: source)
    }
    return text.replacingOccurrences(of: "error: ", with: "error: \(path):", options: .anchored)
  }

  /// Every name of `--sizes` must be a dimension symbol of the problem (a typo would
  /// otherwise be ignored silently); a name that is not is a usage error.
  private static func checkSizes(_ sizes: [String: Int], of problem: Problem) throws {
    var symbols = Set<String>()
    for input in problem.inputs {
      for case .symbol(let name) in [input.expr.shape.rows, input.expr.shape.cols] {
        symbols.insert(name)
      }
    }
    for name in sizes.keys.sorted() where !symbols.contains(name) {
      let known =
        symbols.isEmpty
        ? "it has none" : "its dimensions: " + symbols.sorted().joined(separator: ", ")
      throw Options.UsageError(
        message: "--sizes names \(name), which is not a dimension of the problem (\(known))")
    }
  }

  /// Runs the numeric check unless --no-check (then the certificate is nil). A failed check
  /// is reported and `passed` is false: the caller prints nothing.
  private static func certify(
    _ options: Options, output: inout Output, subject: String, withheld: String,
    position: String = "", _ check: () throws -> Certificate
  ) throws -> (passed: Bool, certificate: Certificate?) {
    guard options.check else { return (true, nil) }
    let result = try check()
    guard result.passed else {
      if let failure = result.failure {
        output.error(
          "error: \(position)numeric check failed for \(subject): \(failure); \(withheld)")
        return (false, nil)
      }
      output.error(
        "error: \(position)numeric check failed for \(subject) (max rel. error "
          + "\(result.maxRelativeError) at \(result.worstEntry)); \(withheld)")
      return (false, nil)
    }
    return (true, result)
  }

  /// Derives, checks jointly and prints the gradients of several variables.
  private static func emitSeveral(
    _ expression: String, _ names: [String], rules: RuleSet, options: Options,
    output: inout Output
  ) throws -> Int32 {
    guard options.order == 1 else {
      throw MatcalcError.unsupported("--order 2 takes one variable at a time", nil)
    }
    let backpropagation = try deriveUnchecked(
      expression, wrt: names, where: options.statements, rules: rules)
    try checkSizes(options.sizes, of: backpropagation.problem)
    let (passed, certificate) = try certify(
      options, output: &output, subject: "the gradients", withheld: "nothing is printed"
    ) { try backpropagation.check(layout: options.layout) }
    guard passed else { return 1 }
    let piece: Piece
    switch (options.format, options.standalone) {
    case (.json, _):
      var object = try backpropagation.jsonObject(
        certificate: certificate, layout: options.layout, steps: options.steps)
      if !options.check { object["check"] = Self.uncheckedJSON }
      piece = .json(object)
    case (.latex, true):
      piece = .section(
        try backpropagation.latexSection(certificate: certificate, layout: options.layout))
    case (.html, _):
      piece = .page(
        try backpropagation.htmlSection(
          certificate: certificate, layout: options.layout, steps: options.steps,
          sizes: options.sizes), title: backpropagation.htmlTitle)
    default:
      var text = try backpropagation.render(
        options.format, certificate: certificate, layout: options.layout,
        steps: options.steps, sizes: options.sizes)
      if options.steps && options.format == .text {
        text += "\n" + (try backpropagation.renderSteps())
      }
      if !options.check && (options.format == .text || options.format == .markdown) {
        text += options.format == .text ? "\n" + Self.unchecked : "\n\n" + Self.unchecked + "."
      }
      piece = .formatted(text)
    }
    output.print(try joined([piece], options: options))
    return 0
  }

  /// One goal's output, before it is joined with the other goals of a problem file.
  enum Piece {
    /// Printed as it is (several: text and Markdown blank-line separated, LaTeX fragments
    /// one per line, NumPy one tuple).
    case formatted(String)
    /// An element of the JSON array.
    case json([String: Any])
    /// A section of the one standalone LaTeX document.
    case section(String)
    /// A section of the one HTML page, and what it derives (for the page's title).
    case page(String, title: String)
  }

  /// The goals' output as one document of the format.
  static func joined(_ pieces: [Piece], options: Options) throws -> String {
    var objects: [[String: Any]] = []
    var sections: [String] = []
    var formatted: [String] = []
    var pageSections: [String] = []
    var titles: [String] = []
    for piece in pieces {
      switch piece {
      case .json(let object): objects.append(object)
      case .section(let section): sections.append(section)
      case .page(let section, let title):
        pageSections.append(section)
        titles.append(title)
      case .formatted(let text): formatted.append(text)
      }
    }
    if !pageSections.isEmpty {
      return HTMLPage.document(
        sections: pageSections, title: titles.joined(separator: ", ") + " · matcalc")
    }
    if !objects.isEmpty {
      return try Derivation.serialized(objects.count == 1 ? objects[0] : objects)
    }
    if !sections.isEmpty { return LatexDocument.document(sections: sections) }
    switch options.format {
    case .numpy:
      return formatted.count == 1 ? formatted[0] : "(" + formatted.joined(separator: ", ") + ")"
    case .python, .jax:
      // One import line for all the functions.
      let functions = formatted.enumerated().map { index, text in
        index == 0 ? text : String(text.drop { $0 != "\n" }.drop { $0 == "\n" })
      }
      return functions.joined(separator: "\n\n\n")
    case .latex: return formatted.joined(separator: " \\\\\n")
    case .text, .markdown, .json, .html: return formatted.joined(separator: "\n\n")
    }
  }

  /// Checks one derivation and renders it; `nil` when the check failed (reported, after
  /// `position`: a problem file's `FILE:LINE:COLUMN: `).
  private static func emit(
    _ derivation: Derivation, options: Options, output: inout Output, position: String = ""
  ) throws -> Piece? {
    // The gradient on symmetric matrices is checked as printed (2G − diag(diag(G)), G bound).
    let derivation = options.symmetricGradient ? try derivation.symmetrized() : derivation
    let (passed, certificate) = try certify(
      options, output: &output,
      subject: "∂\(derivation.objectiveName)/∂\(derivation.variableName)",
      withheld: "the formula is not printed", position: position
    ) { try derivation.check(layout: options.layout) }
    guard passed else { return nil }
    switch (options.format, options.standalone) {
    case (.json, _):
      var object = try derivation.jsonObject(
        certificate: certificate, layout: options.layout, steps: options.steps)
      if !options.check { object["check"] = Self.uncheckedJSON }
      return .json(object)
    case (.latex, true):
      return .section(try derivation.latexSection(certificate: certificate, layout: options.layout))
    case (.html, _):
      return .page(
        try derivation.htmlSection(
          certificate: certificate, layout: options.layout, steps: options.steps,
          sizes: options.sizes), title: derivation.htmlTitle)
    default:
      var text = try derivation.render(
        options.format, certificate: certificate, layout: options.layout, steps: options.steps,
        sizes: options.sizes)
      if options.steps && options.format == .text {
        text += "\n" + (try derivation.renderSteps())
      }
      if !options.check && (options.format == .text || options.format == .markdown) {
        text += options.format == .text ? "\n" + Self.unchecked : "\n\n" + Self.unchecked + "."
      }
      return .formatted(text)
    }
  }

  /// What text and Markdown say under --no-check (shared/LANGUAGE.md: "the output says so").
  static let unchecked = "not checked (--no-check): nothing verified this formula on numbers"
  /// JSON's `check` under --no-check.
  static var uncheckedJSON: [String: Any] { ["passed": NSNull(), "text": unchecked] }

  /// An error with its position in the expression argument or in --where (the library
  /// counts each from its own first line).
  static func report(_ error: MatcalcError, statements: String, expression: String) -> String {
    guard let range = error.range, range.line >= 1 else { return "error: \(error.message)" }
    let text = error.rendered(expression: expression, statements: statements)
    guard range.part == .statements else { return text }
    return text.replacingOccurrences(
      of: "error: where ", with: "error: --where ", options: .anchored)
  }
}
