import Foundation
import TensorKernelAVX512

FastKernel.installIfSupported()

// The work runs on a thread with a large stack (reserved, not committed), so that a raised
// --max-depth cannot overflow the 8 MiB main stack in the recursive stages.
nonisolated(unsafe) var output = Matcalc.Output()
nonisolated(unsafe) var status: Int32 = 0
let done = DispatchSemaphore(value: 0)
let worker = Thread {
  status = Matcalc.run(Array(CommandLine.arguments.dropFirst()), output: &output)
  done.signal()
}
worker.stackSize = 512 << 20
worker.start()
done.wait()
FileHandle.standardOutput.write(Data(output.standardOutput.utf8))
FileHandle.standardError.write(Data(output.standardError.utf8))
exit(status)
