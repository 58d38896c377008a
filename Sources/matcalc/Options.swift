import Foundation
import MatrixCalculus

/// The parsed command line (shared/LANGUAGE.md, "CLI contract").
struct Options: Equatable {
  enum Mode: Equatable {
    case help
    case version
    case derive(expression: String, wrt: String)
    case file(String)
  }

  var mode: Mode = .help
  var statements = ""
  var order = 1
  var format = OutputFormat.text
  var steps = false
  var check = true
  var rulesDirectory: String?
  var layout = Layout.standard
  var standalone = false
  var symmetricGradient = false
  var limits = Limits()
  /// Sizes of symbolic dimensions that emitted code is planned for (`--sizes n=2000,m=8000`).
  var sizes: [String: Int] = [:]

  static let usage = """
    matcalc — symbolic matrix calculus, every formula checked on numbers

    usage:
      matcalc derive 'EXPR' --wrt NAME [--where 'STATEMENTS'] [--order 1|2]
                     [--format text|latex|markdown|html|numpy|python|jax|json] [--standalone]
                     [--layout standard|numerator|denominator] [--symmetric-gradient]
                     [--steps] [--sizes n=2000,m=8000]
                     [--check | --no-check] [--rules DIR]
                     [--max-depth N] [--max-input CHARACTERS] [--time-limit SECONDS]
      matcalc derive 'EXPR' --wrt NAME1,NAME2,…   (one backward pass for several variables;
                                                 --format numpy gives a tuple in that order)
      matcalc FILE.mc [--format …] [--steps] [--no-check]
      matcalc - [--format …]     (the problem file read from standard input)
      matcalc --help | --version

    examples:
      matcalc derive "x'*A*x" --wrt x --where 'x : vector(n); A : matrix(n, n)'
      matcalc derive l --wrt W --where 'L : function; D = W*X; l = L(D)'

    A flag's value may follow it or be attached (--wrt x, --wrt=x); format and layout names
    ignore case; --wrt and --where may be repeated (--wrt x --wrt A is --wrt x,A), other
    flags are given once; '--' ends the flags. EXPR may begin with '-'.

    STATEMENTS are declarations (W : matrix(m, n)) and definitions
    (H = X*W, D[i,j] = sum(k, W[i,k]*X[k,j])) separated by ';'. Every formula is checked
    against central finite differences before it is printed; --no-check skips that.
    """

  struct UsageError: Error {
    let message: String
  }

  /// The case of `T` spelled `text`, or an error listing the cases (`--layout takes standard,
  /// numerator or denominator, not 'x'`).
  static func choice<T: RawRepresentable & CaseIterable>(_ flag: String, _ text: String) throws
    -> T where T.RawValue == String
  {
    // Names are case-insensitive (`--format LaTeX`), as the cases are lower-case.
    if let value = T(rawValue: text.lowercased()) { return value }
    let names = T.allCases.map(\.rawValue)
    let listed = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    throw UsageError(message: "\(flag) takes \(listed), not '\(text)'")
  }

  /// `n=2000,m=8000` as sizes of dimension symbols, or an error naming `--sizes`.
  static func sizes(_ text: String) throws -> [String: Int] {
    var sizes: [String: Int] = [:]
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let parts = item.split(separator: "=", omittingEmptySubsequences: false)
      let name = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
      guard parts.count == 2, let first = name.first, first.isLetter || first == "_",
        name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
        let size = Int(parts[1].trimmingCharacters(in: .whitespaces)), size > 0
      else {
        throw UsageError(
          message: "--sizes takes NAME=SIZE pairs separated by ',' with positive integer "
            + "sizes (--sizes n=2000,m=8000), not '\(text)'")
      }
      guard sizes[name] == nil else {
        throw UsageError(message: "--sizes gives \(name) twice")
      }
      sizes[name] = size
    }
    return sizes
  }

  /// Refuses flags that no output of the format can honour, naming both.
  func requireCompatibleFlags(several: Bool) throws {
    let format = "--format \(self.format.rawValue)"
    if standalone && self.format != .latex && self.format != .html {  // HTML: always a page
      throw UsageError(message: "--standalone goes with --format latex, not \(format)")
    }
    if steps && [.numpy, .python, .jax].contains(self.format) {
      throw UsageError(
        message:
          "--steps cannot go with \(format) (\(self.format == .numpy ? "one line of Python" : "Python code")); use text, "
          + "markdown, json or latex --standalone")
    }
    if steps && self.format == .latex && !standalone {
      throw UsageError(
        message: "--steps with --format latex needs --standalone (a math fragment has no room "
          + "for the steps)")
    }
    guard several else { return }
    if symmetricGradient {
      throw UsageError(
        message: "--symmetric-gradient takes one variable at a time, not several --wrt names")
    }
    if order == 2 {
      throw UsageError(message: "--order 2 takes one variable at a time, not several --wrt names")
    }
  }

  /// Flags that take a value, given as `--flag VALUE` or `--flag=VALUE`. `--wrt` and
  /// `--where` accumulate when repeated; the others may be given once.
  static let valuedFlags: Set<String> = [
    "--wrt", "--where", "--order", "--format", "--layout", "--rules", "--sizes", "--max-depth",
    "--max-input", "--time-limit",
  ]
  /// Flags that take no value.
  static let switches: Set<String> = [
    "--help", "--version", "--steps", "--standalone", "--symmetric-gradient", "--check",
    "--no-check",
  ]

  /// Whether `argument` has the form of an option (`-w`, `--wrt`, `--wrt=x`, `-wrt`) rather
  /// than of an expression (`-y'*log(p)`, `-2*x`, `-`).
  static func looksLikeOption(_ argument: String) -> Bool {
    let name = argument.drop { $0 == "-" }.prefix { $0 != "=" }
    let dashes = argument.count - argument.drop { $0 == "-" }.count
    guard (1...2).contains(dashes), let first = name.first, first.isASCII, first.isLetter else {
      return false
    }
    return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
  }

  /// The error for an option that is not one, with the long options it may have meant
  /// (`-w`: --wrt or --where; `-wrt`: --wrt).
  static func unknownOption(_ argument: String) -> UsageError {
    let flag = String(argument.prefix { $0 != "=" })
    var message = "unknown option '\(flag)'"
    if !flag.hasPrefix("--") {
      let name = flag.dropFirst()
      let known = (valuedFlags.union(switches)).sorted()
      let exact = known.filter { $0.dropFirst(2) == name }
      let candidates = exact.isEmpty ? known.filter { $0.dropFirst(2).hasPrefix(name) } : exact
      if !candidates.isEmpty && candidates.count <= 3 {
        let listed = candidates.dropLast().joined(separator: ", ")
        message +=
          " (did you mean " + (listed.isEmpty ? "" : listed + " or ")
          + (candidates.last ?? "") + "?)"
        return UsageError(message: message)
      }
    }
    return UsageError(message: message + " (see matcalc --help)")
  }

  /// Parses arguments (without the program name).
  static func parse(_ arguments: [String]) throws -> Options {
    var options = Options()
    var positionals: [String] = []
    var wrt: [String] = []
    var given: [String: String] = [:]
    var index = 0
    var wantsHelp = false
    var wantsVersion = false
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      // `--` ends the options, as for other tools: what follows is positional.
      if argument == "--" && !optionsEnded {
        optionsEnded = true
        continue
      }
      if optionsEnded {
        positionals.append(argument)
        continue
      }
      // An expression may itself begin with '-' (`-y'*log(p)`, even `-x` in the place of the
      // expression): only what has the form of an option outside that place is an option.
      let expressionPlace = positionals == ["derive"]
      guard looksLikeOption(argument) && !(expressionPlace && !argument.hasPrefix("--")) else {
        positionals.append(argument)
        continue
      }
      // `--flag=value` is `--flag value`.
      let flag: String
      var attached: String?
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        flag = String(argument[..<equals])
        attached = String(argument[argument.index(after: equals)...])
      } else {
        flag = argument
      }
      guard valuedFlags.contains(flag) else {
        if attached != nil && switches.contains(flag) {
          throw UsageError(message: "\(flag) takes no value")
        }
        switch flag {
        case "--help", "-h": wantsHelp = true
        case "--version": wantsVersion = true
        case "--steps": options.steps = true
        case "--standalone": options.standalone = true
        case "--symmetric-gradient": options.symmetricGradient = true
        case "--check": options.check = true
        case "--no-check": options.check = false
        default: throw unknownOption(argument)
        }
        continue
      }
      let text: String
      if let attached {
        text = attached
      } else {
        guard index < arguments.count else { throw UsageError(message: "\(flag) needs a value") }
        text = arguments[index]
        index += 1
      }
      if let earlier = given[flag], flag != "--wrt", flag != "--where" {
        throw UsageError(
          message: "\(flag) is given twice ('\(earlier)' and '\(text)'); give it once")
      }
      given[flag] = text
      try options.apply(flag, text, wrt: &wrt)
    }
    if wantsHelp || (positionals.isEmpty && !wantsVersion) {
      options.mode = .help
      return options
    }
    if wantsVersion {
      options.mode = .version
      return options
    }
    try options.requireCompatibleFlags(several: wrt.count > 1)
    var seen = Set<String>()
    for name in wrt where !seen.insert(name).inserted {
      throw UsageError(message: "--wrt names \(name) twice")
    }
    if positionals.first == "derive" {
      guard positionals.count == 2 else {
        throw UsageError(
          message: positionals.count < 2
            ? "derive needs an expression: matcalc derive 'EXPR' --wrt NAME"
            : "derive takes one expression; quote it: matcalc derive 'EXPR' --wrt NAME")
      }
      guard !wrt.isEmpty else { throw UsageError(message: "derive needs --wrt NAME") }
      options.mode = .derive(expression: positionals[1], wrt: wrt.joined(separator: ","))
      return options
    }
    guard positionals.count == 1 else {
      throw UsageError(
        message: "expected 'derive' or one problem file, got \(positionals.count) arguments")
    }
    if !wrt.isEmpty {
      throw UsageError(message: "--wrt goes with 'derive'; a file names its goals")
    }
    options.mode = .file(positionals[0])
    return options
  }

  /// Sets what the valued `flag` says; `--wrt` names are collected in `wrt`.
  private mutating func apply(_ flag: String, _ text: String, wrt: inout [String]) throws {
    switch flag {
    case "--wrt":
      let names = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
      guard !names.contains(where: \.isEmpty) else {
        throw UsageError(message: "--wrt takes NAME or NAME1,NAME2,…, not '\(text)'")
      }
      wrt += names
    case "--where":
      statements += (statements.isEmpty ? "" : ";") + text
    case "--order":
      guard let order = Int(text), order == 1 || order == 2 else {
        throw UsageError(message: "--order takes 1 or 2, not '\(text)'")
      }
      self.order = order
    case "--format": format = try Self.choice(flag, text)
    case "--layout": layout = try Self.choice(flag, text)
    case "--rules": rulesDirectory = text
    case "--sizes": sizes = try Self.sizes(text)
    default:  // --max-depth, --max-input, --time-limit
      guard let number = Double(text), number > 0, number <= 1e9 else {
        throw UsageError(message: "\(flag) takes a positive number, not '\(text)'")
      }
      switch flag {
      case "--max-depth":
        // Measured: 4000 levels run within the CLI's 512 MiB stack in a debug build.
        guard number <= 4000 else {
          throw UsageError(message: "--max-depth is at most 4000 (deeper input would overflow)")
        }
        limits.maximumDepth = Int(number)
      case "--max-input": limits.maximumInputLength = Int(number)
      default: limits.maximumSeconds = number
      }
    }
  }
}
