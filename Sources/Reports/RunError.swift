/// Why a command's library entry point could not produce its result.
///
/// The command line maps `data` to exit 65 (the input was read but cannot be used) and `usage` to
/// exit 64 (the request itself cannot be met, e.g. a profiler step the trace does not have).
public enum RunError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The input is not acceptable: errors in the trace, nothing to analyse, an unwritable file.
  case data(String)
  /// The request does not fit the input or the options.
  case usage(String)

  public var description: String {
    switch self {
    case .data(let message), .usage(let message): message
    }
  }
}
