import CostModels
import Rendering
import Replay
import Schedules
import TraceExport
import TraceImport

/// An error the command line reports as one line and maps to an exit code: a usage error
/// (the request: flags, names, a step the trace lacks) exits 64, anything else 65 (the input:
/// a malformed trace or spec, a run that cannot be replayed).
///
/// Every error a library entry point throws on bad input conforms, so the command line decides
/// the exit code in one place without knowing each module's error types.
public protocol ReportableError: Error, CustomStringConvertible {
  /// Whether the request, rather than the input data, is at fault.
  var isUsageError: Bool { get }
}

extension RunError: ReportableError {
  public var isUsageError: Bool { if case .usage = self { true } else { false } }
}

extension SpecError: ReportableError {}

extension ModelArgumentError: ReportableError {
  public var isUsageError: Bool { true }
}

extension ScenarioError: ReportableError {
  public var isUsageError: Bool { true }
}

extension LayoutError: ReportableError {
  public var isUsageError: Bool { true }
}

extension ScheduleError: ReportableError {
  public var isUsageError: Bool { true }
}

extension TraceImportError: ReportableError {
  public var isUsageError: Bool { false }
}

extension ReplayError: ReportableError {
  public var isUsageError: Bool { false }
}

extension ClusterSpecError: ReportableError {
  public var isUsageError: Bool { false }
}

extension Graphviz.RenderError: ReportableError {
  public var isUsageError: Bool { false }
}

extension PipelineProfile.Failure: ReportableError {
  public var isUsageError: Bool { false }
}

/// An output file that cannot be written: exit 65 with the path and the system's reason, as for
/// every other file the commands write.
extension ChromeTraceWriter.WriteError: ReportableError {
  public var isUsageError: Bool { false }
}

extension ChakraExporter.WriteError: ReportableError {
  public var isUsageError: Bool { false }
}
