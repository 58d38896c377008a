import TestSupport
import Testing

/// A missing outside tool skips its tests on a developer's machine and fails them under CI.
@Test(arguments: [
  ([:], false), (["CI": "true"], true), (["CI": "false"], false),
  (["MATCALC_REQUIRE_TOOLS": "1"], true), (["MATCALC_REQUIRE_TOOLS": "0"], false),
])
func missingToolsAreRequiredUnderCI(_ environment: [String: String], required: Bool) {
  #expect(OutsideTool.isRequired(in: environment) == required)
}

/// The skip line names each missing tool and how to install it, in one line.
@Test func missingToolLineNamesTheToolAndItsInstallation() {
  #expect(OutsideTool.missing([]) == nil)
  for tool in OutsideTool.allCases where !tool.isAvailable {
    let line = OutsideTool.missing([tool]) ?? ""
    #expect(line.contains(tool.displayName) && line.contains(tool.installation))
    #expect(!line.contains("\n"))
  }
  let present = OutsideTool.allCases.filter(\.isAvailable)
  #expect(OutsideTool.missing(present) == nil)
}
