// The whole pipeline under libFuzzer: parse → derive → render (every format) → check.
// An input is "EXPRESSION\nVARIABLE\nSTATEMENTS…"; errors are expected, crashes and hangs are
// findings. Built by .ci/fuzz with -DFUZZING; a normal build gets the replay driver below,
// which runs the same code on files (to reproduce a finding).
import Foundation
import MatrixCalculus

func exercise(_ text: String) {
  var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  guard !lines.isEmpty else { return }
  let expression = lines.removeFirst()
  let variable = lines.isEmpty ? "x" : lines.removeFirst()
  let statements = lines.joined(separator: "\n")
  for order in [1, 2] {
    do {
      let derivation = try deriveUnchecked(
        expression, wrt: variable, where: statements, order: order)
      for format in OutputFormat.allCases { _ = try? derivation.render(format) }
      _ = try? derivation.check(points: 1)
    } catch {
      _ = "\(error)"
    }
  }
}

#if FUZZING
  typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

  /// libFuzzer's driver (LLVM ≥ 11); SwiftPM names the executable's entry `FuzzTarget_main`,
  /// so the entry below hands control to libFuzzer instead of using libFuzzer's own main.
  @_silgen_name("LLVMFuzzerRunDriver")
  func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
  ) -> CInt

  @_cdecl("FuzzTarget_main")
  func fuzzEntry(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
  ) -> CInt {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector) { data, size in
      guard let data else { return 0 }
      exercise(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self))
      return 0
    }
  }
#else
  @main
  struct Replay {
    static func main() throws {
      for path in CommandLine.arguments.dropFirst() {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        let files =
          FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
          ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map {
            url.appendingPathComponent($0)
          } : [url]
        for file in files {
          // A live fuzzer may delete files from its corpus meanwhile; skip what is gone.
          guard let data = try? Data(contentsOf: file) else { continue }
          exercise(String(decoding: data, as: UTF8.self))
        }
        print("replayed \(files.count) inputs from \(path)")
      }
    }
  }
#endif
