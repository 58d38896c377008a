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

    EXPR may begin with '-'. STATEMENTS are declarations (W : matrix(m, n)) and definitions
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
    if let value = T(rawValue: text) { return value }
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

  /// Parses arguments (without the program name).
  static func parse(_ arguments: [String]) throws -> Options {
    var options = Options()
    var positionals: [String] = []
    var wrt: String?
    var index = 0
    func value(_ flag: String) throws -> String {
      index += 1
      guard index < arguments.count else { throw UsageError(message: "\(flag) needs a value") }
      return arguments[index]
    }
    var wantsHelp = false
    var wantsVersion = false
    while index < arguments.count {
      let argument = arguments[index]
      switch argument {
      case "--help", "-h": wantsHelp = true
      case "--version": wantsVersion = true
      case "--wrt": wrt = try value(argument)
      case "--where":
        options.statements += (options.statements.isEmpty ? "" : ";") + (try value(argument))
      case "--order":
        let text = try value(argument)
        guard let order = Int(text), order == 1 || order == 2 else {
          throw UsageError(message: "--order takes 1 or 2, not '\(text)'")
        }
        options.order = order
      case "--format": options.format = try choice(argument, try value(argument))
      case "--steps": options.steps = true
      case "--standalone": options.standalone = true
      case "--symmetric-gradient": options.symmetricGradient = true
      case "--max-depth", "--max-input", "--time-limit":
        let text = try value(argument)
        guard let number = Double(text), number > 0, number <= 1e9 else {
          throw UsageError(message: "\(argument) takes a positive number, not '\(text)'")
        }
        switch argument {
        case "--max-depth":
          // Measured: 4000 levels run within the CLI's 512 MiB stack in a debug build.
          guard number <= 4000 else {
            throw UsageError(message: "--max-depth is at most 4000 (deeper input would overflow)")
          }
          options.limits.maximumDepth = Int(number)
        case "--max-input": options.limits.maximumInputLength = Int(number)
        default: options.limits.maximumSeconds = number
        }
      case "--layout": options.layout = try choice(argument, try value(argument))
      case "--check": options.check = true
      case "--no-check": options.check = false
      case "--rules": options.rulesDirectory = try value(argument)
      case "--sizes": options.sizes = try sizes(try value(argument))
      default:
        // An expression may itself begin with '-' (`-y'*log(p)`): only known flags are flags.
        if argument.hasPrefix("--") {
          throw UsageError(message: "unknown option '\(argument)' (see matcalc --help)")
        }
        positionals.append(argument)
      }
      index += 1
    }
    if wantsHelp || (positionals.isEmpty && !wantsVersion) {
      options.mode = .help
      return options
    }
    if wantsVersion {
      options.mode = .version
      return options
    }
    try options.requireCompatibleFlags(several: wrt?.contains(",") ?? false)
    if let wrt {
      var seen = Set<String>()
      for name in wrt.split(separator: ",").map(String.init) where !seen.insert(name).inserted {
        throw UsageError(message: "--wrt names \(name) twice")
      }
    }
    if positionals.first == "derive" {
      guard positionals.count == 2 else {
        throw UsageError(
          message: positionals.count < 2
            ? "derive needs an expression: matcalc derive 'EXPR' --wrt NAME"
            : "derive takes one expression; quote it: matcalc derive 'EXPR' --wrt NAME")
      }
      guard let wrt else { throw UsageError(message: "derive needs --wrt NAME") }
      options.mode = .derive(expression: positionals[1], wrt: wrt)
      return options
    }
    guard positionals.count == 1 else {
      throw UsageError(
        message: "expected 'derive' or one problem file, got \(positionals.count) arguments")
    }
    if wrt != nil { throw UsageError(message: "--wrt goes with 'derive'; a file names its goals") }
    options.mode = .file(positionals[0])
    return options
  }
}
