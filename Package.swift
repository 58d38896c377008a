// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "matcalc",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "MatrixCalculus", targets: ["MatrixCalculus"]),
    .executable(name: "matcalc", targets: ["matcalc"]),
    .executable(name: "matcalc-bench", targets: ["matcalc-bench"]),
  ],
  targets: [
    .target(name: "TensorKernel"),
    .executableTarget(name: "EmbedRules"),
    .plugin(
      name: "RulesPlugin", capability: .buildTool(), dependencies: ["EmbedRules"],
      path: "Sources/RulesPlugin"),
    .target(
      name: "MatrixCalculus", dependencies: ["TensorKernel"], plugins: ["RulesPlugin"]),
    .executableTarget(name: "matcalc", dependencies: ["MatrixCalculus"]),
    .executableTarget(name: "matcalc-bench", dependencies: ["MatrixCalculus", "TensorKernel"]),
    .testTarget(name: "TensorKernelTests", dependencies: ["TensorKernel"]),
    .testTarget(name: "MatrixCalculusTests", dependencies: ["MatrixCalculus", "TensorKernel"]),
    .testTarget(name: "MatcalcTests", dependencies: ["matcalc", "MatrixCalculus"]),
  ]
)
