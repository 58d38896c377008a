import Foundation

/// Runs a program the tests need from outside (the built `matcalc`, `python3`, `pdflatex`).
/// Output goes to files, not pipes: a child that fills one pipe while the other is read would
/// block.
public enum Subprocess {
  /// Runs `arguments` (through `/usr/bin/env` unless `executable` is given), with `input` on
  /// standard input and `directory` as the working directory.
  ///
  /// - Returns: the exit status, standard output and standard error.
  public static func run(
    _ arguments: [String], executable: URL = URL(fileURLWithPath: "/usr/bin/env"),
    input: String? = nil, directory: URL? = nil
  ) throws -> (status: Int32, output: String, error: String) {
    let folder = FileManager.default.temporaryDirectory
    let token = UUID().uuidString
    let outURL = folder.appendingPathComponent("matcalc-out-\(token)")
    let errURL = folder.appendingPathComponent("matcalc-err-\(token)")
    let inURL = folder.appendingPathComponent("matcalc-in-\(token)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: outURL)
      try? FileManager.default.removeItem(at: errURL)
      try? FileManager.default.removeItem(at: inURL)
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let input {
      try input.write(to: inURL, atomically: true, encoding: .utf8)
      process.standardInput = try FileHandle(forReadingFrom: inURL)
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

/// Runs pdflatex (texlive-latex-base, installed by .ci/run) on a document in a folder of its
/// own; returns the exit status and the log.
public func compileLatex(_ document: String) throws -> (status: Int32, log: String) {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-latex-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: folder) }
  try document.write(
    to: folder.appendingPathComponent("doc.tex"), atomically: true, encoding: .utf8)
  let status = try Subprocess.run(
    ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], directory: folder
  ).status
  let log = (try? String(contentsOf: folder.appendingPathComponent("doc.log"), encoding: .utf8))
  return (status, log ?? "")
}
