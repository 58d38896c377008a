import Foundation
import TensorKernelAVX512

FastKernel.installIfSupported()

var output = Matcalc.Output()
let status = Matcalc.run(Array(CommandLine.arguments.dropFirst()), output: &output)
FileHandle.standardOutput.write(Data(output.standardOutput.utf8))
FileHandle.standardError.write(Data(output.standardError.utf8))
exit(status)
