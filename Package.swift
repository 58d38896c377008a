// swift-tools-version: 6.0
import PackageDescription

// The fast product: the same source as TensorKernel's, built for AVX-512 with fused
// multiply-add. Only executables link it (a target with unsafe flags may not be part of a
// library product others depend on), and they call it only after a run-time CPU check.
// `MATCALC_FUZZ=1 swift build --product FuzzTarget` (see .ci/fuzz) instruments the engine for
// libFuzzer and links libFuzzer into FuzzTarget only, so the build tool that embeds the rules
// keeps its own main.
let fuzzing = Context.environment["MATCALC_FUZZ"] != nil
let fuzzSettings: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []

#if arch(x86_64)
  let fastKernelSettings: [SwiftSetting] = [
    .define("FUSED_MULTIPLY_ADD"),
    .unsafeFlags(["-Ounchecked", "-target-cpu", "skylake-avx512"], .when(configuration: .release)),
  ]
#else
  let fastKernelSettings: [SwiftSetting] = [.define("FUSED_MULTIPLY_ADD")]
#endif

let package = Package(
  name: "matcalc",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "MatrixCalculus", targets: ["MatrixCalculus"]),
    .executable(name: "matcalc", targets: ["matcalc"]),
    .executable(name: "matcalc-bench", targets: ["matcalc-bench"]),
  ],
  targets: [
    .target(name: "TensorKernel", swiftSettings: fuzzSettings),
    .target(
      name: "TensorKernelAVX512", dependencies: ["TensorKernel"], swiftSettings: fastKernelSettings),
    .executableTarget(name: "EmbedRules"),
    .plugin(
      name: "RulesPlugin", capability: .buildTool(), dependencies: ["EmbedRules"],
      path: "Sources/RulesPlugin"),
    .target(
      name: "MatrixCalculus", dependencies: ["TensorKernel"], swiftSettings: fuzzSettings,
      plugins: ["RulesPlugin"]),
    .executableTarget(name: "matcalc", dependencies: ["MatrixCalculus", "TensorKernelAVX512"]),
    .executableTarget(
      name: "matcalc-bench",
      dependencies: ["MatrixCalculus", "TensorKernel", "TensorKernelAVX512"],
      exclude: ["sympy_bench.py", "emitted_bench.py"]),
    .executableTarget(
      name: "FuzzTarget", dependencies: ["MatrixCalculus"],
      swiftSettings: fuzzing ? fuzzSettings + [.define("FUZZING")] : [],
      linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])] : []),
    .testTarget(name: "TensorKernelTests", dependencies: ["TensorKernel", "TensorKernelAVX512"]),
    // Launching python3, pdflatex and the built binary, shared by the test targets.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(
      name: "MatrixCalculusTests", dependencies: ["MatrixCalculus", "TensorKernel", "TestSupport"]),
    .testTarget(name: "MatcalcTests", dependencies: ["matcalc", "MatrixCalculus", "TestSupport"]),
  ]
)
