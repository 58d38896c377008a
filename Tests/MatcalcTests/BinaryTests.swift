import Foundation
import TestSupport
import Testing

/// Launches the built `matcalc` for what only a real process shows: exit codes, stderr, and
/// that a copy of the binary in another directory still has its rules.
enum Binary {
  static var url: URL {
    // `swift test` runs the test bundle from the build folder that also holds `matcalc`.
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("matcalc")
  }

  static func run(_ executable: URL, _ arguments: [String], input: String? = nil) throws
    -> (status: Int32, output: String, error: String)
  {
    try Subprocess.run(arguments, executable: executable, input: input)
  }
}

@Test func binaryReportsBadInputOnStderrWithStatusOne() throws {
  let result = try Binary.run(
    Binary.url, ["derive", "W*Q", "--wrt", "W", "--where", "W : matrix(m, n); Q : matrix(p, q)"])
  #expect(result.status == 1)
  #expect(result.output.isEmpty)
  #expect(result.error.contains("error: 1:1: W*Q: W is m×n but Q is p×q"))
}

@Test func binaryDoesNotCrashOnAbsurdNesting() throws {
  // 60 000 levels (an argument may not exceed 128 KiB on Linux).
  let deep = String(repeating: "(", count: 60_000) + "x" + String(repeating: ")", count: 60_000)
  let result = try Binary.run(Binary.url, ["derive", deep, "--wrt", "x"])
  #expect(result.status == 1)
  #expect(result.error.contains("nested more than"))
}

@Test func copiedBinaryStillHasItsRules() throws {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-copy-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: folder) }
  let copy = folder.appendingPathComponent("matcalc")
  try FileManager.default.copyItem(at: Binary.url, to: copy)
  // A child another test forks while the copy is written may hold it open for writing a
  // moment longer (ETXTBSY, "Text file busy"): try again after a pause.
  var attempt = 0
  var launched: (status: Int32, output: String, error: String)?
  while launched == nil {
    do {
      launched = try Binary.run(copy, ["derive", "logdet(X)", "--wrt", "X"])
    } catch  where attempt < 5 {
      attempt += 1
      Thread.sleep(forTimeInterval: 0.2)
    }
  }
  let result = try #require(launched)
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.contains("∂f/∂X = X⁻ᵀ"))
}

/// `matcalc -` runs the goals of the problem on standard input, as README.md shows.
@Test func binaryReadsTheProblemFromStandardInput() throws {
  let problem = "x : vector(n); A : matrix(n, n)\nf = x'*A*x\nderive f wrt x\n"
  let result = try Binary.run(Binary.url, ["-"], input: problem)
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.hasPrefix("∂f/∂x = (A + Aᵀ) x\n"), "\(result.output)")
  #expect(result.output.contains("checked: max rel. error"))
  let json = try Binary.run(Binary.url, ["-", "--format", "json"], input: problem)
  #expect(json.status == 0, "\(json.error)")
  #expect(json.output.contains("\"shape\""), "\(json.output)")
}

/// Errors on standard input name `<stdin>`, its line and column; no goal is an error too.
@Test(arguments: [
  ("x : vector(n)\nf = x.T*x\nderive f wrt x\n", "error: <stdin>:2:6: x.T: write x' for"),
  ("x : vector(n)\n", "error: <stdin> has no goal"),
  ("", "error: <stdin> has no goal"),
])
func binaryReportsStandardInputErrors(_ input: String, message: String) throws {
  let result = try Binary.run(Binary.url, ["-"], input: input)
  #expect(result.status == 1)
  #expect(result.output.isEmpty)
  #expect(result.error.hasPrefix(message), "\(result.error)")
}

/// A usage error exits 2 from the real process, with the unknown option named on stderr.
@Test func binaryExitsTwoOnAUsageError() throws {
  let result = try Binary.run(Binary.url, ["derive", "x'*x", "-w", "x"])
  #expect(result.status == 2)
  #expect(result.output.isEmpty)
  #expect(result.error.hasPrefix("error: unknown option '-w'"), "\(result.error)")
}

/// A problem whose last goal fails prints the goals before it and exits 1.
@Test func binaryPrintsTheGoalsBeforeAFailingOne() throws {
  let problem = "x : vector(n)\nf = x'*x\nderive f wrt x\nderive f wrt y\n"
  let result = try Binary.run(Binary.url, ["-"], input: problem)
  #expect(result.status == 1)
  #expect(result.output.hasPrefix("∂f/∂x = 2 x\n"), "\(result.output)")
  #expect(result.error.hasPrefix("error: <stdin>:4:1: "), "\(result.error)")
}
