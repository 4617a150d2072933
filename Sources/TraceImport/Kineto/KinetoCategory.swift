/// Families of Kineto `cat` values across PyTorch eras (2021 `Kernel`/`Runtime`/`Operator`,
/// current `kernel`/`cuda_runtime`/`cpu_op`, AMD HIP under `cuda_runtime`, MTIA), decided once
/// per distinct category string from one table.
enum KinetoCategory: UInt8, Sendable {
  case kernel, memcpy, memset, cpuOp, runtime, userAnnotation, gpuUserAnnotation, pythonFunction
  case cpuInstant, trace, cudaSync, profilerRange, overhead, mtiaDevice, mtiaRuntime
  /// Flow-only categories (`ac2g`, `async`, `fwdbwd`, …) on non-flow events.
  case flow
  case none, unknown

  static let table: [String: KinetoCategory] = [
    "kernel": .kernel, "Kernel": .kernel,
    "gpu_memcpy": .memcpy, "Memcpy": .memcpy,
    "gpu_memset": .memset, "Memset": .memset,
    "cpu_op": .cpuOp, "Operator": .cpuOp, "operator": .cpuOp,
    "cuda_runtime": .runtime, "cuda_driver": .runtime, "Runtime": .runtime, "hip_runtime": .runtime,
    "user_annotation": .userAnnotation, "gpu_user_annotation": .gpuUserAnnotation,
    "python_function": .pythonFunction,
    "cpu_instant_event": .cpuInstant,
    "Trace": .trace,
    "cuda_sync": .cudaSync,
    "cuda_profiler_range": .profilerRange,
    "overhead": .overhead,
    "mtia_ccp_events": .mtiaDevice, "mtia_runtime": .mtiaRuntime,
    "ac2g": .flow, "async": .flow, "async_gpu": .flow, "async_cpu_to_gpu": .flow, "fwdbwd": .flow,
    "critical_path": .flow,
    "": .none,
  ]

  static func of(_ cat: String) -> KinetoCategory { table[cat] ?? .unknown }

  /// Whether events of this category run on a device stream (pid = device, tid = stream).
  var isDevice: Bool {
    switch self {
    case .kernel, .memcpy, .memset, .gpuUserAnnotation, .cudaSync, .mtiaDevice: true
    default: false
    }
  }
}
