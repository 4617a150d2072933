import ArgumentParser
import Reports

struct ShardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "shard",
    abstract: "Write each rank's event graph as one compact binary shard (DIR/rank-R.rshard).",
    discussion: """
      A shard holds what its rank's trace alone gives (events, edges, strings, collectives, \
      send/recv, allocator records, diagnostics), columnar, checksummed and readable with mmap; \
      every command that reads traces reads shards and directories of them, and links the ranks \
      when they are loaded together. Shard each rank file on its own machine and copy the shards \
      to one place for the reduce (docs/scale-out.md). A damaged shard exits 65 with file:@offset.
      """)

  @OptionGroup var input: TraceInputs
  @Option(name: .shortAndLong, help: "Directory the shards are written to (created when missing).") var output: String
  @Flag(help: "Print one JSON object (schema reprise.shard-summary/v1) instead of the summary.") var json = false

  func run() throws {
    let summary = try ShardSummary.write(paths: input.paths, to: output)
    print(json ? try summary.json() : summary.text())
  }
}
