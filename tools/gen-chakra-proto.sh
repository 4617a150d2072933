#!/usr/bin/env bash
# Regenerates Sources/ChakraSchema/chakra_et_def.pb.swift from Proto/chakra_et_def.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from apple/swift-protobuf
# at the version Package.swift names (about 10 minutes on 2 cores, once):
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/pgs/swift-protobuf
#   (cd /tmp/pgs/swift-protobuf && swift build -c release --product protoc-gen-swift)
# CI does not run this: the generated file is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUGIN=${PROTOC_GEN_SWIFT:-/tmp/pgs/swift-protobuf/.build/release/protoc-gen-swift}
protoc --plugin=protoc-gen-swift="$PLUGIN" --swift_opt=Visibility=Public --swift_out=Sources/ChakraSchema \
  --proto_path=Proto Proto/chakra_et_def.proto
echo "wrote Sources/ChakraSchema/chakra_et_def.pb.swift"
