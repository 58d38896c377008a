import Foundation
import Testing

/// Launches the built `matcalc` for what only a real process shows: exit codes, stderr, and
/// that a copy of the binary in another directory still has its rules.
enum Binary {
  static var url: URL {
    // `swift test` runs the test bundle from the build folder that also holds `matcalc`.
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("matcalc")
  }

  static func run(_ executable: URL, _ arguments: [String]) throws
    -> (status: Int32, output: String, error: String)
  {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    // Files, not pipes: a child that fills one pipe while the other is read would block.
    let folder = FileManager.default.temporaryDirectory
    let outURL = folder.appendingPathComponent("matcalc-out-\(UUID().uuidString)")
    let errURL = folder.appendingPathComponent("matcalc-err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: outURL)
      try? FileManager.default.removeItem(at: errURL)
    }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return (
      process.terminationStatus, try String(contentsOf: outURL, encoding: .utf8),
      try String(contentsOf: errURL, encoding: .utf8)
    )
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
  let result = try Binary.run(copy, ["derive", "logdet(X)", "--wrt", "X"])
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.contains("∂f/∂X = X⁻ᵀ"))
}
