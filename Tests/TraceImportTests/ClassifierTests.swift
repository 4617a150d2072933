import Testing
import TraceModel

@testable import TraceImport

@Test(arguments: [
  ("ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*, unsigned long, ncclWork*)", CommOp.collective(.allReduce)),
  ("ncclDevKernel_AllReduce_Sum_f16_RING_LL", .collective(.allReduce)),
  ("ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)", .collective(.allGather)),
  ("ncclKernel_ReduceScatter_RING_SIMPLE_Sum_bf16", .collective(.reduceScatter)),
  ("ncclKernel_Broadcast_RING_LL_Sum_int8_t(ncclDevComm*, unsigned long, ncclWork*)", .collective(.broadcast)),
  ("ncclKernel_Reduce_RING_LL_Sum_float", .collective(.reduce)),
  ("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t(ncclDevComm*, unsigned long, ncclWork*)", .sendRecv),
  ("ncclDevKernel_SendRecv(ncclDevComm*, unsigned long, ncclWork*)", .sendRecv),
  ("ncclDevKernel_Generic(ncclDevKernelArgsStorage<4096ul>)", .generic),
  ("ncclDevKernel_Generic_4(ncclDevKernelArgsStorage<4096ul>)", .generic),
  ("ncclKernel_AllReduce", .collective(.allReduce)),
])
func ncclKernelNamesOfEveryEra(name: String, op: CommOp) {
  #expect(CommClassifier.kernelName(name) == op)
}

@Test func notNCCLKernelsAreNotCommunication() {
  #expect(CommClassifier.kernelName("ampere_sgemm_128x64_tn") == nil)
  #expect(CommClassifier.kernelName("ncclx_internal_helper") == nil)
}

@Test(arguments: [
  ("allreduce", CommOp.collective(.allReduce)), ("all_reduce", .collective(.allReduce)),
  ("_allgather_base", .collective(.allGather)), ("allgather_into_tensor_coalesced", .collective(.allGather)),
  ("reduce_scatter_tensor_coalesced", .collective(.reduceScatter)),
  ("_reduce_scatter_base", .collective(.reduceScatter)),
  ("all_to_all", .collective(.allToAll)), ("all_to_allv", .collective(.allToAll)),
  ("alltoall_base", .collective(.allToAll)),
  ("broadcast", .collective(.broadcast)), ("barrier", .collective(.barrier)), ("send", .send), ("recv", .recv),
  ("gather", .collective(.gather)), ("scatter", .collective(.scatter)), ("reduce", .collective(.reduce)),
])
func collectiveNameArgs(word: String, op: CommOp) {
  #expect(CommClassifier.operation(word) == op)
}

@Test func hostNamesOfGlooNcclAndC10d() {
  #expect(CommClassifier.hostName("gloo:all_reduce")! == ("gloo", .collective(.allReduce)))
  #expect(CommClassifier.hostName("nccl:all_to_all")! == ("nccl", .collective(.allToAll)))
  #expect(CommClassifier.hostName("nccl:_reduce_scatter_base")! == ("nccl", .collective(.reduceScatter)))
  #expect(CommClassifier.hostName("c10d::alltoall_base_")! == ("c10d", .collective(.allToAll)))
  #expect(CommClassifier.hostName("c10d::recv_")! == ("c10d", .recv))
  #expect(CommClassifier.hostName("gloo:send")! == ("gloo", .send))
  #expect(CommClassifier.hostName("record_param_comms") == nil)
  #expect(CommClassifier.hostName("aten::add") == nil)
}

@Test(arguments: [
  (
    "void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 64, 4>>(Flash_fwd_params)",
    ComputeClass.attention
  ),
  ("fmha_cutlassF_f16_aligned_64x64_rf_sm80", .attention),
  ("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64", .gemm),
  ("ampere_sgemm_128x64_tn", .gemm), ("Cijk_Ailk_Bljk_BBS_BH_MT128x128x32", .gemm),
  ("nvjet_tst_128x256_64x4_1x2_h_bz_coopB_TNT", .gemm),
  ("void cudnn::cnn::wgrad_alg0_engine<float, 128, 6, 7, 3, 3, 5, false, 512>", .gemm),
  ("void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float>", .reduction),
  ("void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, MeanOps>>", .reduction),
  ("triton_red_fused_native_layer_norm_0", .reduction), ("triton_poi_fused_add_mul_0", .elementwise),
  ("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>>", .elementwise),
  ("void at::native::unrolled_elementwise_kernel<at::native::direct_copy_kernel_cuda>", .elementwise),
  ("void convert_fp32_to_bf16_kernel", .elementwise),
])
func computeClasses(name: String, cls: ComputeClass) {
  #expect(KernelClassifier.classify(name).0 == cls)
}

@Test func unknownKernelsAreOtherAndFlagged() {
  let (cls, matched) = KernelClassifier.classify("my_custom_thing")
  #expect(cls == .other && !matched)
}

@Test func memcpyDirectionsAndSyncCalls() {
  #expect(MemcpyClassifier.direction("Memcpy HtoD (Pageable -> Device)") == .hostToDevice)
  #expect(MemcpyClassifier.direction("Memcpy DtoH (Device -> Pinned)") == .deviceToHost)
  #expect(MemcpyClassifier.direction("Memcpy DtoD (Device -> Device)") == .deviceToDevice)
  #expect(MemcpyClassifier.direction("Memcpy PtoP (Device -> Device)") == .peerToPeer)
  #expect(MemcpyClassifier.direction("HOST_TO_DEVICE") == .hostToDevice)
  #expect(SyncClassifier.isSync("cudaStreamSynchronize") && SyncClassifier.isSync("hipDeviceSynchronize"))
  #expect(!SyncClassifier.isSync("cudaLaunchKernel"))
  #expect(DTypeSize.bytes("BFloat16") == 2 && DTypeSize.bytes("long int") == 8 && DTypeSize.bytes("c10::Half") == 2)
}

@Test func inputDimsAndRankLists() {
  #expect(KinetoGraphBuilder.firstTensorDims("[[6144], [], []]") == [6144])
  #expect(KinetoGraphBuilder.firstTensorDims("[[8, 2048, 4096], [4096]]") == [8, 2048, 4096])
  #expect(KinetoGraphBuilder.firstTensorDims("[[], [3]]") == [])
  #expect(KinetoGraphBuilder.firstTypeName(#"["c10::BFloat16", "Scalar"]"#) == "c10::BFloat16")
  #expect(KinetoGraphBuilder.parseRankList("[0, 1, 2]") == [0, 1, 2])
}

/// The byte search the classifiers use agrees with `String.contains` on every rule pattern,
/// on real-looking names, random ASCII and the edges (pattern at the start, the end, longer
/// than the name, empty).
@Test func substringRulesAgreeWithStringContains() {
  let patterns = KernelClassifier.rules.map(\.0) + ["", "x", "zz"]
  var names = [
    "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>(int, float*)",
    "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_nn", "flash", "ash", "", "a",
    "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64",
  ]
  var seed: UInt64 = 42
  for _ in 0..<300 {
    var s = ""
    for _ in 0..<Int(seed % 40) {
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      s.append(Character(UnicodeScalar(UInt8(97 + (seed >> 33) % 26))))
    }
    names.append(s)
  }
  for name in names {
    let lower = name.lowercased()
    var bytes = lower
    let found = bytes.withUTF8 { hay in patterns.map { SubstringRules.occurs($0, in: hay) } }
    for (p, hit) in zip(patterns, found) {
      #expect(hit == (p.isEmpty || lower.contains(p)), "\(p) in \(name)")
    }
  }
}
