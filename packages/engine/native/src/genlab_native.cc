// genlab's optional native kernels: the heavy TensorFlow.js kernels (convolutions, their two gradients, matrix
// products), run by oneDNN in place on the wasm backend's heap; beside them, loops of its own for what oneDNN does
// badly or not at all (convolutions with a thin side, elementwise arithmetic, reductions, batch normalization, Adam,
// and the kernels that only move numbers).
//
// The JavaScript side (src/native/addon.ts) passes the heap as a Float32Array over the wasm memory (a plain or a
// shared ArrayBuffer), and one Int32Array that describes the call: the operation, its shapes and attributes, then
// the float offsets of its tensors in the heap. Nothing is copied in or out: oneDNN reads and writes the tensors
// where tfjs keeps them.
//
// A primitive is built once per distinct description (oneDNN compiles a kernel for each shape) and cached. Weights
// arrive in TensorFlow's layout (HWIO) and are reordered into the layout oneDNN's fastest kernel asks for; the
// weight gradient is reordered back (and a Winograd convolution's activations, into its blocked layout and out:
// see kWinogradPositions). A call that oneDNN cannot run (a shape it rejects) returns false, and the
// JavaScript side runs the wasm kernel instead.
#include <node_api.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::primitive;
using dnnl::primitive_attr;
using dnnl::prop_kind;
using dnnl::reorder;
using dnnl::stream;
using tag = memory::format_tag;
using dt = memory::data_type;

engine &cpu() {
  static engine e(engine::kind::cpu, 0);
  return e;
}

stream &cpuStream() {
  static stream s(cpu());
  return s;
}

// The operations, as src/native/addon.ts numbers them (OP).
enum Op : int32_t {
  kConv2D = 0, kConv2DBackpropInput = 1, kConv2DBackpropFilter = 2, kMatMul = 3, kAdam = 4, kBinary = 5,
  kUnary = 6, kReduce = 7, kBatchNorm = 8, kBatchNormGrad = 9, kMoments = 10, kMomentsGrad = 11, kCopyRows = 12,
  kBlockSpread = 13, kBlockSum = 14, kOpCount
};

// Fused activations, as src/native/kernels.ts numbers them (ACTIVATIONS).
enum Activation : int32_t { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3 };

// The layout of a convolution's description (ints), after which come the heap offsets.
enum ConvField {
  cOp, cN, cH, cW, cC, cKH, cKW, cO, cOH, cOW, cSH, cSW, cDH, cDW, cPadTop, cPadLeft, cPadBottom, cPadRight,
  cHasBias, cActivation, cAlphaBits, cFields
};
// A matrix product: C[b] = op(A[b]) · op(B[b]) (+ bias, activation); a batch of 1 broadcasts.
enum MatMulField { mOp, mBatchA, mBatchB, mM, mN, mK, mTransA, mTransB, mHasBias, mActivation, mAlphaBits, mFields };
// Elementwise binary ops, C = A ∘ B, with B broadcast to A's (and C's) shape; rank ≤ 6, shapes padded with 1s
// in front; the op by genlab's number (BinaryKind). Offsets: a, b, c.
enum BinaryField { bOp, bAlgorithm, bRank, bOutDims, bBDims = bOutDims + 6, bFields = bBDims + 6 };
// Elementwise unary ops on n floats, the op by genlab's number (UnaryKind), α for leaky ReLU and step.
// Offsets: x, y.
enum UnaryField { uOp, uKind, uSize, uAlphaBits, uFields };
// A reduction of x seen as [A, R, B] over its middle axis (the reduced axes, contiguous), to y = [A, B].
// Offsets: x, y.
enum ReduceField { rOp, rKind, rOuter, rReduced, rInner, rFields };
// Batch normalization with given statistics, channels last: y = (x − μ) · γ / √(σ² + ε) + β over [rows, C].
// Offsets: x, mean, variance, offset β, scale γ, y.
enum BatchNormField { nOp, nRows, nC, nEpsilonBits, nHasOffset, nHasScale, nFields };
// The gradient of batch normalization with respect to all five of its inputs, over [rows, C]; with
// r = 1/√(σ² + ε), γ the scale (1 without), S₁ = Σ dy and S₂ = Σ dy·(x − μ) per channel:
//   dx = dy·γ·r,  dμ = −γ·r·S₁,  dσ² = −½·γ·r³·S₂,  dγ = r·S₂,  dβ = S₁.
// Offsets: dy, x, mean, variance, scale, then dx, dmean, dvariance, dscale, doffset.
enum BatchNormGradField { gOp, gRows, gC, gEpsilonBits, gHasScale, gFields };
// The batch statistics of x = [rows, C] per channel, μ = Σ x / rows and σ² = Σ (x − μ)² / rows (in double: two
// reading passes); and their gradient, dx = dμ / rows + dσ² · 2 (x − μ) / rows. Offsets: x, mean, variance; and
// x, mean, dmean, dvariance, dx.
enum MomentsField { tOp, tRows, tC, tFields };

// One Adam update of one variable, its floats as bits and as TensorFlow.js rounds them (1 − β as a double, then to
// float32); its offsets: w, g, m, v, then the new w, m, v.
enum AdamField {
  aOp, aSize, aMinusLearningRate, aBeta1, aOneMinusBeta1, aBeta2, aOneMinusBeta2, aEpsilon, aOneMinusAccBeta1,
  aOneMinusAccBeta2, aFields
};

// A copy of `rows` runs of `width` 32-bit values (floats or ints, copied as bits): run r from src[r · srcStride +
// srcColumn] to dst[r · dstStride + dstColumn] (a concat's input into its place in the output, a split's part out
// of the input). Offsets: src, dst.
enum CopyRowsField { kRowsOp, kRows, kWidth, kSrcStride, kSrcColumn, kDstStride, kDstColumn, kRowsFields };
// The gradients of an average pool and of a nearest-neighbour upsampling whose k × l windows tile the image, over
// images [n, h, w, c] (the larger side) and [n, h / k, w / l, c] (the smaller), channels last:
//   spread: dx[b, i, j] = scale · dy[b, ⌊i / k⌋, ⌊j / l⌋] where that window exists, 0 elsewhere (the rows and columns
//           a valid pool leaves out); offsets: dy (small), dx (large). The large side is h × w, the small oh × ow.
//   sum:    dx[b, i, j] = scale · Σ over the k × l block of dy at (k·i, l·j); offsets: dy (large), dx (small).
// A tiling average pool is a sum with scale 1 / (k·l), a whole-number nearest-neighbour upsampling a spread with 1.
enum BlockField { lOp, lN, lH, lW, lC, lOH, lOW, lK, lL, lScaleBits, lFields };

float floatFromBits(int32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

primitive_attr attrFor(int32_t activation, float alpha) {
  primitive_attr attr;
  dnnl::post_ops ops;
  switch (activation) {
    case kLinear: break;
    case kRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: ops.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f); break;
    case kLeakyRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    default: throw std::runtime_error("unknown activation");
  }
  attr.set_post_ops(ops);
  return attr;
}

// A tensor the caller owns (in the heap), in the caller's layout; its pointer is set on every call.
memory userMemory(const memory::desc &md) { return memory(md, cpu(), DNNL_MEMORY_NONE); }

// Buffers shared by every call, for the activations a Winograd convolution reads and writes in oneDNN's blocked
// layout: calls run one at a time, so one buffer per role is enough; each grows to the largest call's need and stays.
enum ScratchSlot { kScratchIn = 0, kScratchOut = 1, kScratchSlots };

void *scratch(int slot, size_t bytes) {
  struct Buffer {
    void *data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  static Buffer buffers[kScratchSlots];
  Buffer &b = buffers[slot];
  if (b.size < bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *data = std::aligned_alloc(64, rounded);
    if (!data) throw std::bad_alloc();
    std::free(b.data);
    b.data = data;
    b.size = rounded;
  }
  return b.data;
}

// A tensor in the caller's layout (weights in TensorFlow's HWIO, activations channels last), and the layout the
// primitive wants, with the reorder between them. The kernel-side copy is the entry's own (weights: small, and
// reordered on every call) or, with a scratch slot, a shared buffer (activations in a blocked layout).
struct Relayout {
  memory user;     // the caller's tensor (pointer set per call)
  memory kernel;   // what the primitive reads or writes (== user when the layouts agree)
  bool needed = false;
  int slot = -1;
  reorder step;

  Relayout(const memory::desc &userMd, const memory::desc &kernelMd, bool toKernel, int scratchSlot = -1)
      : user(userMemory(userMd)) {
    needed = userMd != kernelMd;
    if (!needed) {
      kernel = user;
      return;
    }
    slot = scratchSlot;
    kernel = slot < 0 ? memory(kernelMd, cpu()) : memory(kernelMd, cpu(), DNNL_MEMORY_NONE);
    step = toKernel ? reorder(user, kernel) : reorder(kernel, user);
  }
  // Points the kernel-side copy at its scratch buffer (before the primitive writes it, for an output).
  void bind() {
    if (needed && slot >= 0) kernel.set_data_handle(scratch(slot, kernel.get_desc().get_size()));
  }
  void run() {
    bind();
    if (needed) step.execute(cpuStream(), user, kernel);
  }
  void runBack() {
    if (needed) step.execute(cpuStream(), kernel, user);
  }
};

struct Entry {
  virtual ~Entry() = default;
  virtual void run(float *heap, const int32_t *offsets) = 0;
  std::string impl;
  // Roughly how much work a call is (elements touched, or multiply-adds / 256), to choose its threads.
  int64_t work = 0;
};

// Threads: as many as the wasm pool has, for calls big enough to share; one for the rest. A parallel region
// costs a few microseconds to start with spinning threads, and tens to wake sleeping ones, more than a small
// call's whole work; and a small convolution splits badly (PixelCNN sampling's, 16 images of 9 × 17 pixels:
// 60 M multiply-adds, ran 2.6 s over the 784 passes on two threads, 2.3 s on one). So a convolution or product
// shares its threads from about 32 M multiply-adds, elementwise work from 128 K elements.
int maxThreads = 1;
int currentThreads = -1;
constexpr int64_t kParallelWork = 1 << 17;

void useThreadsFor(int64_t work) {
  int want = work >= kParallelWork ? maxThreads : 1;
  if (want != currentThreads) {
    omp_set_num_threads(want);
    currentThreads = want;
  }
}

int64_t product(const int32_t *p, int n) {
  int64_t r = 1;
  for (int i = 0; i < n; i++) r *= p[i];
  return r;
}

// The work of a described call (see Entry::work).
int64_t workOf(const int32_t *p);

// Winograd's F(4 × 4, 3 × 3) (oneDNN's jit_wino_4x3) does a 3 × 3 convolution in a quarter of the direct kernels'
// multiplications, plus transforms, but only in oneDNN's blocked layouts: such a call reorders its activations into
// scratch buffers and back (memory-bound: about 1.2 ms each way for [64, 28, 28, 48]). Measured in a training
// process on 2 cores (AVX-512), ms per call, value / input gradient, direct → Winograd with its reorders:
// [64, 28, 28, 48] → 48 channels 10.1 / 10.8 → 7.6 / 7.7; [64, 14, 14, 48] → 48 2.6 / 2.4 → 2.2 / 1.8;
// [64, 7, 7, 64] → 64 1.0 / 0.9 → 0.7 / 0.7; [64, 28, 28, 96] → 32 14.0 / 13.8 → 11.8 / 7.9. Around 800
// positions the two tie ([4, 14, 14, 64], one 28 × 28 image). The filter gradient stays direct (ConvBackwardWeights).
// Its sums round differently: against a float64 reference its error is about 4× the direct kernels' (rms 1e-6 of the
// values where direct gives 2e-7; the largest, 3e-6 of the largest value, within the 2e-5 the tests hold every
// native kernel to). So only calls of at least 2,048 positions take it (training and sampling batches); the small
// inputs of a lab's checks stay on the direct kernels. setWinograd(false) (GENLAB_WINOGRAD=0) turns it off.
constexpr int64_t kWinogradPositions = 2048;
bool winogradOn = true;

bool winogradWanted(const int32_t *p) {
  const bool shape = p[cKH] == 3 && p[cKW] == 3 && p[cSH] == 1 && p[cSW] == 1 && p[cDH] == 1 && p[cDW] == 1 &&
                     p[cC] % 16 == 0 && p[cO] % 16 == 0;
  return winogradOn && shape && int64_t(p[cN]) * p[cOH] * p[cOW] >= kWinogradPositions;
}

struct ConvShape {
  memory::dims src, weights, dst, bias, strides, dilates, padL, padR;
  bool winograd;
  ConvShape(const int32_t *p, bool useWinograd)
      : src{p[cN], p[cC], p[cH], p[cW]},
        weights{p[cO], p[cC], p[cKH], p[cKW]},
        dst{p[cN], p[cO], p[cOH], p[cOW]},
        bias{p[cO]},
        strides{p[cSH], p[cSW]},
        dilates{p[cDH] - 1, p[cDW] - 1},  // oneDNN counts the taps skipped; TensorFlow the step between them
        padL{p[cPadTop], p[cPadLeft]},
        padR{p[cPadBottom], p[cPadRight]},
        winograd(useWinograd) {}
  algorithm alg() const { return winograd ? algorithm::convolution_winograd : algorithm::convolution_direct; }
  // The caller's layouts.
  memory::desc userSrcMd() const { return memory::desc(src, dt::f32, tag::nhwc); }
  memory::desc userDstMd() const { return memory::desc(dst, dt::f32, tag::nhwc); }
  memory::desc userWeightsMd() const { return memory::desc(weights, dt::f32, tag::hwio); }
  // The layouts the primitive is asked for: the caller's, except where Winograd chooses its own.
  memory::desc srcMd() const { return winograd ? memory::desc(src, dt::f32, tag::any) : userSrcMd(); }
  memory::desc dstMd() const { return winograd ? memory::desc(dst, dt::f32, tag::any) : userDstMd(); }
  memory::desc anyWeightsMd() const { return memory::desc(weights, dt::f32, tag::any); }
  dnnl::convolution_forward::primitive_desc forwardHint() const {
    dnnl::convolution_forward::desc d(prop_kind::forward_training, alg(), srcMd(), anyWeightsMd(), dstMd(), strides,
                                      dilates, padL, padR);
    return dnnl::convolution_forward::primitive_desc(d, cpu());
  }
};

// The primitive descriptor `make` builds for a convolution call: with Winograd where it is wanted and oneDNN has it
// for this call (its fused activation included), the direct kernels otherwise.
template <typename Make>
auto convPd(const int32_t *p, Make make) -> decltype(make(ConvShape(p, false))) {
  if (winogradWanted(p)) {
    try {
      return make(ConvShape(p, true));
    } catch (const dnnl::error &) {
    }
  }
  return make(ConvShape(p, false));
}

// y = act(conv(x, w) + bias); offsets: x, w, bias, y.
struct ConvForward : Entry {
  dnnl::convolution_forward conv;
  Relayout weights, src, dst;
  memory bias;
  bool hasBias;

  static dnnl::convolution_forward::primitive_desc pdFor(const int32_t *p) {
    return convPd(p, [p](const ConvShape &s) {
      memory::desc biasMd = p[cHasBias] ? memory::desc(s.bias, dt::f32, tag::a) : memory::desc();
      dnnl::convolution_forward::desc d(prop_kind::forward_training, s.alg(), s.srcMd(), s.anyWeightsMd(), biasMd,
                                        s.dstMd(), s.strides, s.dilates, s.padL, s.padR);
      return dnnl::convolution_forward::primitive_desc(d, attrFor(p[cActivation], floatFromBits(p[cAlphaBits])),
                                                       cpu());
    });
  }
  explicit ConvForward(const int32_t *p) : ConvForward(p, ConvShape(p, false), pdFor(p)) {}
  ConvForward(const int32_t *p, const ConvShape &s, const dnnl::convolution_forward::primitive_desc &pd)
      : conv(pd),
        weights(s.userWeightsMd(), pd.weights_desc(), true),
        src(s.userSrcMd(), pd.src_desc(), true, kScratchIn),
        dst(s.userDstMd(), pd.dst_desc(), false, kScratchOut),
        bias(userMemory(p[cHasBias] ? pd.bias_desc() : memory::desc(memory::dims{1}, dt::f32, tag::a))),
        hasBias(p[cHasBias] != 0) {
    impl = pd.impl_info_str();
  }
  void run(float *heap, const int32_t *o) override {
    src.user.set_data_handle(heap + o[0]);
    weights.user.set_data_handle(heap + o[1]);
    dst.user.set_data_handle(heap + o[3]);
    src.run();
    weights.run();
    dst.bind();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src.kernel}, {DNNL_ARG_WEIGHTS, weights.kernel}, {DNNL_ARG_DST, dst.kernel}};
    if (hasBias) {
      bias.set_data_handle(heap + o[2]);
      args.insert({DNNL_ARG_BIAS, bias});
    }
    conv.execute(cpuStream(), args);
    dst.runBack();
  }
};

// dx = conv_transpose(dy, w): the gradient of a convolution with respect to its input; offsets: dy, w, dx.
struct ConvBackwardData : Entry {
  dnnl::convolution_backward_data conv;
  Relayout weights, diffDst, diffSrc;

  static dnnl::convolution_backward_data::primitive_desc pdFor(const int32_t *p) {
    return convPd(p, [](const ConvShape &s) {
      dnnl::convolution_backward_data::desc d(s.alg(), s.srcMd(), s.anyWeightsMd(), s.dstMd(), s.strides, s.dilates,
                                              s.padL, s.padR);
      return dnnl::convolution_backward_data::primitive_desc(d, cpu(), s.forwardHint());
    });
  }
  explicit ConvBackwardData(const int32_t *p) : ConvBackwardData(ConvShape(p, false), pdFor(p)) {}
  ConvBackwardData(const ConvShape &s, const dnnl::convolution_backward_data::primitive_desc &pd)
      : conv(pd),
        weights(s.userWeightsMd(), pd.weights_desc(), true),
        diffDst(s.userDstMd(), pd.diff_dst_desc(), true, kScratchIn),
        diffSrc(s.userSrcMd(), pd.diff_src_desc(), false, kScratchOut) {
    impl = pd.impl_info_str();
  }
  void run(float *heap, const int32_t *o) override {
    diffDst.user.set_data_handle(heap + o[0]);
    weights.user.set_data_handle(heap + o[1]);
    diffSrc.user.set_data_handle(heap + o[2]);
    diffDst.run();
    weights.run();
    diffSrc.bind();
    conv.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, diffDst.kernel},
                               {DNNL_ARG_WEIGHTS, weights.kernel},
                               {DNNL_ARG_DIFF_SRC, diffSrc.kernel}});
    diffSrc.runBack();
  }
};

// dw = Σ x ⋆ dy: the gradient of a convolution with respect to its filter; offsets: x, dy, dw. Always the direct
// kernels: Winograd's would reorder both x and dy, and then gains nothing (48 → 48 channels at [64, 28, 28]: 9.5 ms
// with the reorders, 10.1 direct).
struct ConvBackwardWeights : Entry {
  dnnl::convolution_backward_weights conv;
  Relayout diffWeights;
  memory src, diffDst;

  static dnnl::convolution_backward_weights::primitive_desc pdFor(const ConvShape &s) {
    dnnl::convolution_backward_weights::desc d(s.alg(), s.srcMd(), s.anyWeightsMd(), s.dstMd(), s.strides, s.dilates,
                                               s.padL, s.padR);
    return dnnl::convolution_backward_weights::primitive_desc(d, cpu(), s.forwardHint());
  }
  explicit ConvBackwardWeights(const int32_t *p) : ConvBackwardWeights(ConvShape(p, false)) {}
  explicit ConvBackwardWeights(const ConvShape &s) : ConvBackwardWeights(s, pdFor(s)) {}
  ConvBackwardWeights(const ConvShape &s, const dnnl::convolution_backward_weights::primitive_desc &pd)
      : conv(pd),
        diffWeights(s.userWeightsMd(), pd.diff_weights_desc(), false),
        src(userMemory(pd.src_desc())),
        diffDst(userMemory(pd.diff_dst_desc())) {
    impl = pd.impl_info_str();
  }
  void run(float *heap, const int32_t *o) override {
    src.set_data_handle(heap + o[0]);
    diffDst.set_data_handle(heap + o[1]);
    diffWeights.user.set_data_handle(heap + o[2]);
    conv.execute(cpuStream(),
                 {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWeights.kernel}});
    diffWeights.runBack();
  }
};

// C = act(op(A) · op(B) + bias); offsets: a, b, bias, c.
struct MatMul : Entry {
  dnnl::matmul mm;
  memory a, b, bias, c;
  bool hasBias;
  // A large product with nothing fused runs oneDNN's sgemm instead: 6.4 ms for 1024³ on 2 cores here, where the
  // matmul primitive's brgemm kernel takes 7.0–7.3 (the primitive wins on the small products of a training step).
  bool gemm;
  int64_t batchA, batchB, m, n, k;
  bool transA, transB;
  static constexpr int64_t kGemmWork = int64_t(1) << 26;

  static memory::desc operand(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
    // Stored as [batch, rows, cols], or as [batch, cols, rows] when transposed.
    memory::dims strides = transposed ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
    return memory::desc({batch, rows, cols}, dt::f32, strides);
  }
  static dnnl::matmul::primitive_desc pdFor(const int32_t *p) {
    int64_t batch = std::max(p[mBatchA], p[mBatchB]);
    memory::desc aMd = operand(p[mBatchA], p[mM], p[mK], p[mTransA] != 0);
    memory::desc bMd = operand(p[mBatchB], p[mK], p[mN], p[mTransB] != 0);
    memory::desc cMd({batch, p[mM], p[mN]}, dt::f32, memory::dims{int64_t(p[mM]) * p[mN], p[mN], 1});
    memory::desc biasMd =
        p[mHasBias] ? memory::desc({1, 1, p[mN]}, dt::f32, memory::dims{p[mN], p[mN], 1}) : memory::desc();
    dnnl::matmul::desc d(aMd, bMd, biasMd, cMd);
    return dnnl::matmul::primitive_desc(d, attrFor(p[mActivation], floatFromBits(p[mAlphaBits])), cpu());
  }
  explicit MatMul(const int32_t *p) : MatMul(p, pdFor(p)) {}
  MatMul(const int32_t *p, const dnnl::matmul::primitive_desc &pd)
      : mm(pd),
        a(userMemory(pd.src_desc())),
        b(userMemory(pd.weights_desc())),
        bias(userMemory(p[mHasBias] ? pd.bias_desc() : memory::desc(memory::dims{1}, dt::f32, tag::a))),
        c(userMemory(pd.dst_desc())),
        hasBias(p[mHasBias] != 0),
        batchA(p[mBatchA]),
        batchB(p[mBatchB]),
        m(p[mM]),
        n(p[mN]),
        k(p[mK]),
        transA(p[mTransA] != 0),
        transB(p[mTransB] != 0) {
    gemm = !hasBias && p[mActivation] == kLinear && m * n * k >= kGemmWork;
    impl = gemm ? "dnnl_sgemm" : pd.impl_info_str();
  }
  void run(float *heap, const int32_t *o) override {
    if (gemm) {
      // Row-major C[b] = op(A[b]) · op(B[b]); a batch of 1 broadcasts.
      const int64_t batch = std::max(batchA, batchB);
      for (int64_t i = 0; i < batch; i++) {
        const float *ai = heap + o[0] + (batchA == 1 ? 0 : i * m * k);
        const float *bi = heap + o[1] + (batchB == 1 ? 0 : i * k * n);
        float *ci = heap + o[3] + i * m * n;
        dnnl_status_t st = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, 1.f, ai, transA ? m : k, bi,
                                      transB ? k : n, 0.f, ci, n);
        if (st != dnnl_success) throw std::runtime_error("dnnl_sgemm failed");
      }
      return;
    }
    a.set_data_handle(heap + o[0]);
    b.set_data_handle(heap + o[1]);
    c.set_data_handle(heap + o[3]);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
    if (hasBias) {
      bias.set_data_handle(heap + o[2]);
      args.insert({DNNL_ARG_BIAS, bias});
    }
    mm.execute(cpuStream(), args);
  }
};

// The loops written here are compiled for the widest vectors the CPU has, chosen when the addon loads (GCC's
// target_clones, on Linux x86-64; elsewhere for the compiler's baseline), so one build runs on any x86-64 machine.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

// acc[b] += Σ_r x[r, b] over `rows` rows of `inner` floats.
VECTOR_CLONES void addRows(const float *x, int64_t rows, int64_t inner, double *acc) {
  if (inner == 1) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t r = 0; r < rows; r++) s += x[r];
    acc[0] += s;
    return;
  }
  for (int64_t r = 0; r < rows; r++) {
    const float *row = x + r * inner;
#pragma omp simd
    for (int64_t b = 0; b < inner; b++) acc[b] += row[b];
  }
}


VECTOR_CLONES void batchNormLoop(const float *x, float *y, int64_t rows, int64_t channels, const float *mean,
                                 const float *mul, const float *add) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *yr = y + r * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; c++) yr[c] = (xr[c] - mean[c]) * mul[c] + add[c];
  }
}

// Each operation rounded to float32 in TensorFlow.js's order (built with -ffp-contract=off: no fused
// multiply-adds), so the result is the one tfjs's dozen kernels give, bit for bit.
VECTOR_CLONES void adamLoop(const float *w, const float *g, const float *m, const float *v, float *wOut, float *mOut,
                            float *vOut, int64_t n, float minusLr, float b1, float oneMinusB1, float b2,
                            float oneMinusB2, float eps, float c1, float c2) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float mi = m[i] * b1 + g[i] * oneMinusB1;
    float vi = v[i] * b2 + (g[i] * g[i]) * oneMinusB2;
    mOut[i] = mi;
    vOut[i] = vi;
    wOut[i] = (mi / c1) / (std::sqrt(vi / c2) + eps) * minusLr + w[i];
  }
}

// Elementwise binary ops, written here: memory-bound, so oneDNN's kernels gain nothing over a plain loop where
// they have one, and oneDNN 2.6 has only its reference kernel for some broadcasts (a per-row scale, [N, 784] ∘
// [N, 1], ran 60× slower than this).
enum BinaryKind { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMaximum = 4, kMinimum = 5, kReluGrad = 6 };

// c[i] = a[i] ∘ b[i] (or ∘ b[0] when b is one number) for n numbers.
VECTOR_CLONES void binaryRow(int32_t kind, const float *a, const float *b, float *c, int64_t n, bool bScalar) {
  const float s = b[0];
  switch (kind) {
#define GENLAB_BINARY_ROW(K, EXPR)                     \
  case K:                                              \
    if (bScalar) {                                     \
      _Pragma("omp simd") for (int64_t i = 0; i < n; i++) { \
        const float x = a[i], y = s;                   \
        c[i] = (EXPR);                                 \
      }                                                \
    } else {                                           \
      _Pragma("omp simd") for (int64_t i = 0; i < n; i++) { \
        const float x = a[i], y = b[i];                \
        c[i] = (EXPR);                                 \
      }                                                \
    }                                                  \
    return;
    GENLAB_BINARY_ROW(kAdd, x + y)
    GENLAB_BINARY_ROW(kSub, x - y)
    GENLAB_BINARY_ROW(kMul, x * y)
    GENLAB_BINARY_ROW(kDiv, x / y)
    // As Math.max and Math.min: NaN if either is NaN.
    GENLAB_BINARY_ROW(kMaximum, (x > y || x != x) ? x : y)
    GENLAB_BINARY_ROW(kMinimum, (x < y || x != x) ? x : y)
    // ReLU's gradient dy · step(x), with x = dy and y = x here, as tfjs computes it (step(NaN) is NaN, and dy · 0 keeps
    // −0 and makes an infinite dy NaN): one pass instead of a step and a product.
    GENLAB_BINARY_ROW(kReluGrad, y > 0 ? x : x * (y != y ? y : 0.f))
#undef GENLAB_BINARY_ROW
  }
}

struct Binary : Entry {
  int32_t kind;
  // C's shape as runs of dims over which B is either whole or broadcast, outermost first; the last run is
  // `inner` numbers, for which b is a row (bInnerStride 1) or one number (0).
  std::vector<int64_t> outerDims, outerBStrides;
  int64_t inner = 1, bInnerStride = 1, outerCount = 1;

  explicit Binary(const int32_t *p) : kind(p[bAlgorithm]) {
    if (kind < kAdd || kind > kReluGrad) throw std::runtime_error("unknown binary op");
    int rank = p[bRank];
    // Merge neighbouring dims that B treats alike (whole or broadcast); drop dims of 1.
    std::vector<std::pair<int64_t, bool>> runs;  // (size, B is whole over it)
    for (int d = 0; d < rank; d++) {
      int64_t n = p[bOutDims + d];
      if (n == 1) continue;
      bool whole = p[bBDims + d] != 1;
      if (!runs.empty() && runs.back().second == whole) runs.back().first *= n;
      else runs.push_back({n, whole});
    }
    if (runs.empty()) runs.push_back({1, true});
    inner = runs.back().first;
    bInnerStride = runs.back().second ? 1 : 0;
    int64_t bStride = bInnerStride ? inner : 1;
    for (size_t r = runs.size() - 1; r-- > 0;) {
      outerDims.insert(outerDims.begin(), runs[r].first);
      outerBStrides.insert(outerBStrides.begin(), runs[r].second ? bStride : 0);
      if (runs[r].second) bStride *= runs[r].first;
      outerCount *= runs[r].first;
    }
    impl = "genlab binary";
  }
  void run(float *heap, const int32_t *o) override {
    const float *a = heap + o[0], *b = heap + o[1];
    float *c = heap + o[2];
    // Rows of C, cut into chunks so that even one long row is shared among the threads.
    const int64_t chunk = bInnerStride ? 16384 : inner;
    const int64_t chunksPerRow = (inner + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < outerCount * chunksPerRow; task++) {
      int64_t row = task / chunksPerRow, from = (task % chunksPerRow) * chunk;
      int64_t bOffset = 0;
      for (int64_t d = int64_t(outerDims.size()) - 1, rest = row; d >= 0; d--) {
        bOffset += (rest % outerDims[d]) * outerBStrides[d];
        rest /= outerDims[d];
      }
      const int64_t n = std::min(chunk, inner - from);
      binaryRow(kind, a + row * inner + from, b + bOffset + (bInnerStride ? from : 0), c + row * inner + from, n,
                bInnerStride == 0);
    }
  }
};

// Reductions, written here: oneDNN 2.6 has only its reference implementation for reducing leading axes (the
// per-channel sums of batch normalization's gradient), 20× slower than this. Sums accumulate in double, as the
// cpu backend's do.
enum ReduceKind { kSum = 0, kMean = 1, kMax = 2, kMin = 3, kProd = 4 };

struct Reduce : Entry {
  int32_t kind;
  int64_t outer, reduced, inner;
  explicit Reduce(const int32_t *p) : kind(p[rKind]), outer(p[rOuter]), reduced(p[rReduced]), inner(p[rInner]) {
    if (kind < kSum || kind > kProd || outer < 1 || reduced < 1 || inner < 1) throw std::runtime_error("bad reduction");
    impl = "genlab reduce";
  }
  double start() const { return kind == kMax ? -INFINITY : kind == kMin ? INFINITY : kind == kProd ? 1.0 : 0.0; }
  static double fold(int32_t kind, double acc, double v) {
    switch (kind) {
      case kMax: return (v > acc || v != v) ? v : acc;
      case kMin: return (v < acc || v != v) ? v : acc;
      case kProd: return acc * v;
      default: return acc + v;
    }
  }
  void run(float *heap, const int32_t *o) override {
    const float *x = heap + o[0];
    float *y = heap + o[1];
    const double init = start();
    const bool parallel = omp_get_max_threads() > 1;
    const int32_t combine = kind == kMean ? int32_t(kSum) : kind;
    auto foldRows = [&](const float *xa, int64_t from, int64_t to, std::vector<double> &acc) {
      if (combine == kSum) return addRows(xa + from * inner, to - from, inner, acc.data());
      for (int64_t r = from; r < to; r++) {
        const float *row = xa + r * inner;
        for (int64_t b = 0; b < inner; b++) acc[b] = fold(combine, acc[b], row[b]);
      }
    };
    auto finish = [&](float *ya, const std::vector<double> &acc) {
      for (int64_t b = 0; b < inner; b++) ya[b] = float(kind == kMean ? acc[b] / double(reduced) : acc[b]);
    };
    if (outer >= 8 || !parallel) {
      // Many outputs: each thread takes whole rows of them.
#pragma omp parallel for schedule(static)
      for (int64_t a = 0; a < outer; a++) {
        std::vector<double> acc(inner, init);
        foldRows(x + a * reduced * inner, 0, reduced, acc);
        finish(y + a * inner, acc);
      }
      return;
    }
    // Few outputs (per-channel sums): the reduced axis is split across threads, each with partials of its own.
    for (int64_t a = 0; a < outer; a++) {
      const float *xa = x + a * reduced * inner;
      std::vector<double> acc(inner, init);
#pragma omp parallel
      {
        std::vector<double> part(inner, init);
        int threads = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t from = reduced * t / threads, to = reduced * (t + 1) / threads;
        foldRows(xa, from, to, part);
#pragma omp critical
        for (int64_t b = 0; b < inner; b++) acc[b] = fold(combine, acc[b], part[b]);
      }
      finish(y + a * inner, acc);
    }
  }
};

// Batch normalization, written here (oneDNN 2.6 runs its reference kernel for these shapes).
struct BatchNorm : Entry {
  int64_t rows, channels;
  float epsilon;
  bool hasOffset, hasScale;
  explicit BatchNorm(const int32_t *p)
      : rows(p[nRows]), channels(p[nC]), epsilon(floatFromBits(p[nEpsilonBits])), hasOffset(p[nHasOffset] != 0),
        hasScale(p[nHasScale] != 0) {
    impl = "genlab batch norm";
  }
  void run(float *heap, const int32_t *o) override {
    const float *x = heap + o[0], *mean = heap + o[1], *variance = heap + o[2], *offset = heap + o[3],
                *scale = heap + o[4];
    float *y = heap + o[5];
    // y = (x − μ) · m + β with m = γ / √(σ² + ε), computed in double per channel.
    std::vector<float> mul(channels), add(channels), mu(channels);
    for (int64_t c = 0; c < channels; c++) {
      double m = (hasScale ? double(scale[c]) : 1.0) / std::sqrt(double(variance[c]) + double(epsilon));
      mul[c] = float(m);
      mu[c] = mean[c];
      add[c] = hasOffset ? offset[c] : 0.f;
    }
    batchNormLoop(x, y, rows, channels, mu.data(), mul.data(), add.data());
  }
};

// One pass over dy and x: the per-channel sums S₁ and S₂ (in double, per thread, then added) and dx.
VECTOR_CLONES void batchNormGradRows(const float *dy, const float *x, float *dx, int64_t from, int64_t to,
                                     int64_t channels, const float *mean, const float *k, double *s1, double *s2) {
  for (int64_t r = from; r < to; r++) {
    const float *dyr = dy + r * channels, *xr = x + r * channels;
    float *dxr = dx + r * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; c++) {
      const float d = dyr[c];
      s1[c] += d;
      s2[c] += double(d) * double(xr[c] - mean[c]);
      dxr[c] = d * k[c];
    }
  }
}

struct BatchNormGrad : Entry {
  int64_t rows, channels;
  float epsilon;
  bool hasScale;
  explicit BatchNormGrad(const int32_t *p)
      : rows(p[gRows]), channels(p[gC]), epsilon(floatFromBits(p[gEpsilonBits])), hasScale(p[gHasScale] != 0) {
    impl = "genlab batch norm gradient";
  }
  void run(float *heap, const int32_t *o) override {
    const float *dy = heap + o[0], *x = heap + o[1], *mean = heap + o[2], *variance = heap + o[3], *scale = heap + o[4];
    float *dx = heap + o[5], *dmean = heap + o[6], *dvariance = heap + o[7], *dscale = heap + o[8], *doffset = heap + o[9];
    std::vector<double> r(channels), gamma(channels);
    std::vector<float> k(channels);
    for (int64_t c = 0; c < channels; c++) {
      r[c] = 1.0 / std::sqrt(double(variance[c]) + double(epsilon));
      gamma[c] = hasScale ? double(scale[c]) : 1.0;
      k[c] = float(gamma[c] * r[c]);
    }
    std::vector<double> s1(channels, 0.0), s2(channels, 0.0);
#pragma omp parallel
    {
      std::vector<double> p1(channels, 0.0), p2(channels, 0.0);
      int threads = omp_get_num_threads(), t = omp_get_thread_num();
      batchNormGradRows(dy, x, dx, rows * t / threads, rows * (t + 1) / threads, channels, mean, k.data(), p1.data(),
                        p2.data());
#pragma omp critical
      for (int64_t c = 0; c < channels; c++) {
        s1[c] += p1[c];
        s2[c] += p2[c];
      }
    }
    for (int64_t c = 0; c < channels; c++) {
      dmean[c] = float(-gamma[c] * r[c] * s1[c]);
      dvariance[c] = float(-0.5 * gamma[c] * r[c] * r[c] * r[c] * s2[c]);
      dscale[c] = float(r[c] * s2[c]);
      doffset[c] = float(s1[c]);
    }
  }
};

// acc[c] += Σ_r (x[r, c] − centre[c])^power for power 1 or 2, over rows from … to.
VECTOR_CLONES void channelSums(const float *x, int64_t from, int64_t to, int64_t channels, const double *centre,
                               int power, double *acc) {
  for (int64_t r = from; r < to; r++) {
    const float *xr = x + r * channels;
    if (power == 1) {
#pragma omp simd
      for (int64_t c = 0; c < channels; c++) acc[c] += xr[c];
    } else {
#pragma omp simd
      for (int64_t c = 0; c < channels; c++) {
        const double d = double(xr[c]) - centre[c];
        acc[c] += d * d;
      }
    }
  }
}

// Σ over the rows of [rows, C] per channel, split across the threads.
std::vector<double> sumOverRows(const float *x, int64_t rows, int64_t channels, const double *centre, int power) {
  std::vector<double> total(channels, 0.0);
#pragma omp parallel
  {
    std::vector<double> part(channels, 0.0);
    int threads = omp_get_num_threads(), t = omp_get_thread_num();
    channelSums(x, rows * t / threads, rows * (t + 1) / threads, channels, centre, power, part.data());
#pragma omp critical
    for (int64_t c = 0; c < channels; c++) total[c] += part[c];
  }
  return total;
}

struct Moments : Entry {
  int64_t rows, channels;
  explicit Moments(const int32_t *p) : rows(p[tRows]), channels(p[tC]) { impl = "genlab moments"; }
  void run(float *heap, const int32_t *o) override {
    const float *x = heap + o[0];
    float *mean = heap + o[1], *variance = heap + o[2];
    std::vector<double> mu = sumOverRows(x, rows, channels, nullptr, 1);
    for (auto &m : mu) m /= double(rows);
    std::vector<double> sq = sumOverRows(x, rows, channels, mu.data(), 2);
    for (int64_t c = 0; c < channels; c++) {
      mean[c] = float(mu[c]);
      variance[c] = float(sq[c] / double(rows));
    }
  }
};

VECTOR_CLONES void momentsGradRows(const float *x, float *dx, int64_t rows, int64_t channels, const float *mean,
                                   const float *a, const float *b) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *dxr = dx + r * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; c++) dxr[c] = a[c] + b[c] * (xr[c] - mean[c]);
  }
}

struct MomentsGrad : Entry {
  int64_t rows, channels;
  explicit MomentsGrad(const int32_t *p) : rows(p[tRows]), channels(p[tC]) { impl = "genlab moments gradient"; }
  void run(float *heap, const int32_t *o) override {
    const float *x = heap + o[0], *mean = heap + o[1], *dmean = heap + o[2], *dvariance = heap + o[3];
    float *dx = heap + o[4];
    // dx = a + b (x − μ) with a = dμ / rows and b = 2 dσ² / rows.
    std::vector<float> a(channels), b(channels);
    for (int64_t c = 0; c < channels; c++) {
      a[c] = float(double(dmean[c]) / double(rows));
      b[c] = float(2.0 * double(dvariance[c]) / double(rows));
    }
    momentsGradRows(x, dx, rows, channels, mean, a.data(), b.data());
  }
};

// Unary ops, written here with TensorFlow.js's semantics, NaN included (oneDNN's ReLU turns NaN into 0, and its
// exp, log, tanh and logistic are approximations; those stay on the wasm kernels).
enum UnaryKind { kReluOp = 0, kLeakyReluOp = 1, kRelu6Op = 2, kSquare = 3, kAbs = 4, kNeg = 5, kSqrt = 6, kStepOp = 7 };

VECTOR_CLONES void unaryLoop(int32_t kind, const float *x, float *y, int64_t n, float alpha) {
  switch (kind) {
#define GENLAB_UNARY(K, EXPR)                                 \
  case K:                                                     \
    _Pragma("omp parallel for simd schedule(static)") for (int64_t i = 0; i < n; i++) { \
      const float v = x[i];                                   \
      y[i] = (EXPR);                                          \
    }                                                         \
    return;
    GENLAB_UNARY(kReluOp, v > 0.f ? v : (v != v ? v : 0.f))  // −0 → 0, NaN → NaN, as the cpu backend
    GENLAB_UNARY(kLeakyReluOp, v < 0.f ? alpha * v : v)
    GENLAB_UNARY(kRelu6Op, v > 0.f ? (v > 6.f ? 6.f : v) : (v != v ? v : 0.f))
    GENLAB_UNARY(kSquare, v * v)
    GENLAB_UNARY(kAbs, std::fabs(v))
    GENLAB_UNARY(kNeg, -v)
    GENLAB_UNARY(kSqrt, std::sqrt(v))
    GENLAB_UNARY(kStepOp, v > 0.f ? 1.f : (v != v ? v : alpha))
#undef GENLAB_UNARY
  }
}

struct Unary : Entry {
  int32_t kind;
  int64_t size;
  float alpha;
  explicit Unary(const int32_t *p) : kind(p[uKind]), size(p[uSize]), alpha(floatFromBits(p[uAlphaBits])) {
    if (kind < kReluOp || kind > kStepOp) throw std::runtime_error("unknown unary op");
    impl = "genlab unary";
  }
  void run(float *heap, const int32_t *o) override { unaryLoop(kind, heap + o[0], heap + o[1], size, alpha); }
};

// Adam (Kingma & Ba 2015), as TensorFlow.js's AdamOptimizer computes it, operation by operation in float32:
//   m' = β₁ m + (1 − β₁) g,   v' = β₂ v + (1 − β₂) g²,
//   w' = w − η · (m' / (1 − β₁ᵗ)) / (√(v' / (1 − β₂ᵗ)) + ε)
// in one pass over the four arrays instead of a dozen kernels each over all of them.
struct Adam {
  int64_t size;
  float minusLr, b1, oneMinusB1, b2, oneMinusB2, eps, c1, c2;
  explicit Adam(const int32_t *p)
      : size(p[aSize]),
        minusLr(floatFromBits(p[aMinusLearningRate])),
        b1(floatFromBits(p[aBeta1])),
        oneMinusB1(floatFromBits(p[aOneMinusBeta1])),
        b2(floatFromBits(p[aBeta2])),
        oneMinusB2(floatFromBits(p[aOneMinusBeta2])),
        eps(floatFromBits(p[aEpsilon])),
        c1(floatFromBits(p[aOneMinusAccBeta1])),
        c2(floatFromBits(p[aOneMinusAccBeta2])) {}
  void run(float *heap, const int32_t *o) const {
    adamLoop(heap + o[0], heap + o[1], heap + o[2], heap + o[3], heap + o[4], heap + o[5], heap + o[6], size, minusLr,
             b1, oneMinusB1, b2, oneMinusB2, eps, c1, c2);
  }
};


// ---- moving numbers: concat, split, and the gradients of tiling pools and upsamplings ----

struct CopyRows : Entry {
  int64_t rows, width, srcStride, srcColumn, dstStride, dstColumn;
  explicit CopyRows(const int32_t *p)
      : rows(p[kRows]),
        width(p[kWidth]),
        srcStride(p[kSrcStride]),
        srcColumn(p[kSrcColumn]),
        dstStride(p[kDstStride]),
        dstColumn(p[kDstColumn]) {
    if (rows < 0 || width < 0 || srcColumn + width > srcStride || dstColumn + width > dstStride)
      throw std::runtime_error("rows outside their tensors");
    impl = "genlab copy rows";
  }
  void run(float *heap, const int32_t *o) override {
    const float *src = heap + o[0] + srcColumn;
    float *dst = heap + o[1] + dstColumn;
    const size_t bytes = size_t(width) * sizeof(float);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) std::memcpy(dst + r * dstStride, src + r * srcStride, bytes);
  }
};

VECTOR_CLONES void spreadRow(const float *dy, float *dx, int64_t c, float scale) {
  _Pragma("omp simd") for (int64_t q = 0; q < c; q++) dx[q] = dy[q] * scale;
}

VECTOR_CLONES void addRow(const float *dy, float *dx, int64_t c) {
  _Pragma("omp simd") for (int64_t q = 0; q < c; q++) dx[q] += dy[q];
}

struct Block : Entry {
  int64_t n, h, w, c, oh, ow, k, l;
  float scale;
  bool sum;
  Block(const int32_t *p, bool sum_)
      : n(p[lN]), h(p[lH]), w(p[lW]), c(p[lC]), oh(p[lOH]), ow(p[lOW]), k(p[lK]), l(p[lL]),
        scale(floatFromBits(p[lScaleBits])), sum(sum_) {
    if (k < 1 || l < 1 || oh * k > h || ow * l > w || (sum && (oh * k != h || ow * l != w)))
      throw std::runtime_error("the blocks do not tile the image");
    impl = sum ? "genlab block sum" : "genlab block spread";
  }
  void run(float *heap, const int32_t *o) override {
    if (sum) {
      const float *dy = heap + o[0];
      float *dx = heap + o[1];
      // Each small pixel sums its k × l block of the large image.
#pragma omp parallel for schedule(static)
      for (int64_t row = 0; row < n * oh; row++) {
        const int64_t b = row / oh, i = row % oh;
        float *out = dx + row * ow * c;
        std::memset(out, 0, size_t(ow * c) * sizeof(float));
        for (int64_t di = 0; di < k; di++)
          for (int64_t j = 0; j < ow; j++)
            for (int64_t dj = 0; dj < l; dj++)
              addRow(dy + ((b * h + i * k + di) * w + j * l + dj) * c, out + j * c, c);
        if (scale != 1.f) spreadRow(out, out, ow * c, scale);
      }
      return;
    }
    const float *dy = heap + o[0];
    float *dx = heap + o[1];
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < n * h; row++) {
      const int64_t b = row / h, i = row % h, si = i / k;
      float *out = dx + row * w * c;
      if (si >= oh) {
        std::memset(out, 0, size_t(w * c) * sizeof(float));
        continue;
      }
      for (int64_t j = 0; j < ow * l; j++) spreadRow(dy + ((b * oh + si) * ow + j / l) * c, out + j * c, c, scale);
      if (ow * l < w) std::memset(out + ow * l * c, 0, size_t((w - ow * l) * c) * sizeof(float));
    }
  }
};

// ---- thin convolutions: one side of a few channels ----
//
// oneDNN's AVX-512 kernels compute 16 output channels at a time, so a convolution to 1, 2 or 4 channels (a flow's
// scale and shift heads, a U-Net's output) does 16, 8 or 4 times its work (48 → 1 channels at [64, 28, 28]: 3.7 ms
// forward, 6.7 ms for its weight gradient, where the arithmetic is 22 M multiply-adds). These loops run such
// convolutions directly, vectorised along the wide side, in about the time their memory takes to read.

constexpr int64_t kThinForward = 2, kThinInput = 2, kThinWeights = 4;

// Where tap (kh, kw) of output (y, x) reads the input, TensorFlow's convention (dilation = the step between taps).
struct ConvGeometry {
  int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, pt, pl;
  explicit ConvGeometry(const int32_t *p)
      : n(p[cN]), h(p[cH]), w(p[cW]), c(p[cC]), kh(p[cKH]), kw(p[cKW]), o(p[cO]), oh(p[cOH]), ow(p[cOW]),
        sh(p[cSH]), sw(p[cSW]), dh(p[cDH]), dw(p[cDW]), pt(p[cPadTop]), pl(p[cPadLeft]) {}
  int64_t taps() const { return kh * kw; }
};

inline void axpy(float a, const float *x, float *y, int64_t n) {
  _Pragma("omp simd") for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

inline float activate(int32_t activation, float v, float alpha) {
  switch (activation) {
    case kRelu: return v > 0 ? v : 0;
    case kRelu6: return std::min(std::max(v, 0.f), 6.f);
    case kLeakyRelu: return v > 0 ? v : v * alpha;
    default: return v;
  }
}

// The row loops below are compiled for the widest vectors (VECTOR_CLONES) and called from parallel regions outside
// them: GCC outlines a parallel region's body into a function of its own, without the clones' targets.

// Σ_p Σ_{k < length} a[p][k]·b[p][k]: the products of each 16 channels of every pair summed in one vector register,
// then its 16 lanes once (pairwise), then the channels past the last 16. (A loop that adds each tap into an array
// waits on memory between taps; a horizontal sum per 16 channels waits on 16 dependent adds.)
inline float dotOverPairs(const float *const *a, const float *const *b, int64_t n, int64_t length) {
  float acc[16] = {};
  int64_t k0 = 0;
  for (; k0 + 16 <= length; k0 += 16)
    for (int64_t p = 0; p < n; p++) {
      const float *x = a[p] + k0, *y = b[p] + k0;
      _Pragma("omp simd") for (int k = 0; k < 16; k++) acc[k] += x[k] * y[k];
    }
  for (int width = 8; width >= 1; width /= 2)
    for (int k = 0; k < width; k++) acc[k] += acc[k + width];
  float s = acc[0];
  for (; k0 < length; k0++)
    for (int64_t p = 0; p < n; p++) s += a[p][k0] * b[p][k0];
  return s;
}

constexpr int64_t kMaxTaps = 64;

// The taps of output (oy, ox) of image b that fall inside the input: where each reads x (xs), and which tap it is
// (kh · kw order); returns how many.
inline int64_t inputTaps(const ConvGeometry &g, int64_t b, int64_t oy, int64_t ox, const float *x, const float **xs,
                         int64_t *tap) {
  int64_t n = 0;
  for (int64_t i = 0; i < g.kh; i++) {
    const int64_t iy = oy * g.sh + i * g.dh - g.pt;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t j = 0; j < g.kw; j++) {
      const int64_t ix = ox * g.sw + j * g.dw - g.pl;
      if (ix < 0 || ix >= g.w) continue;
      xs[n] = x + ((b * g.h + iy) * g.w + ix) * g.c;
      tap[n++] = i * g.kw + j;
    }
  }
  return n;
}

// One output row (image b, row oy) of y = act(conv(x, w) + bias) to o ≤ kThinForward channels: each output a dot product
// over its taps along the input's channels; wt is the weights as [o][tap][c].
VECTOR_CLONES void thinForwardRow(const ConvGeometry &g, int64_t b, int64_t oy, const float *x, const float *wt,
                                  const float *bias, int32_t activation, float alpha, float *y) {
  const int64_t taps = g.taps(), c = g.c, o = g.o;
  const float *xs[kMaxTaps], *ws[kMaxTaps];
  int64_t tap[kMaxTaps];
  for (int64_t ox = 0; ox < g.ow; ox++) {
    const int64_t n = inputTaps(g, b, oy, ox, x, xs, tap);
    for (int64_t p = 0; p < n; p++) ws[p] = wt + tap[p] * c;
    float *ys = y + ((b * g.oh + oy) * g.ow + ox) * o;
    for (int64_t r = 0; r < o; r++) {
      // Output channel r's weights are taps·c further on: the same pointers, offset.
      const float s = dotOverPairs(xs, ws, n, c);
      ys[r] = activate(activation, s + (bias ? bias[r] : 0.f), alpha);
      for (int64_t p = 0; p < n; p++) ws[p] += taps * c;
    }
  }
}

// One input row (image b, row iy) of dx, the gradient with respect to an input of c ≤ kThinInput channels: each
// input pixel gathers what its taps sent, a dot product along the output's channels per input channel (w read as it
// is, HWIO: o contiguous).
VECTOR_CLONES void thinBackwardDataRow(const ConvGeometry &g, int64_t b, int64_t iy, const float *dy, const float *w,
                                       float *dx) {
  const int64_t c = g.c, o = g.o;
  const float *dys[kMaxTaps], *ws[kMaxTaps];
  for (int64_t ix = 0; ix < g.w; ix++) {
    int64_t n = 0;
    for (int64_t i = 0; i < g.kh; i++) {
      const int64_t ty = iy + g.pt - i * g.dh;
      if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.oh) continue;
      for (int64_t j = 0; j < g.kw; j++) {
        const int64_t tx = ix + g.pl - j * g.dw;
        if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.ow) continue;
        dys[n] = dy + ((b * g.oh + ty / g.sh) * g.ow + tx / g.sw) * o;
        ws[n++] = w + (i * g.kw + j) * c * o;
      }
    }
    float *dxs = dx + ((b * g.h + iy) * g.w + ix) * c;
    for (int64_t q = 0; q < c; q++) {
      dxs[q] = dotOverPairs(dys, ws, n, o);
      for (int64_t p = 0; p < n; p++) ws[p] += o;  // input channel q + 1's weights
    }
  }
}

// One output row (image b, row oy) of dw = Σ x ⋆ dy to o ≤ kThinWeights channels, added to acc as [tap][o][c].
VECTOR_CLONES void thinBackwardWeightsRow(const ConvGeometry &g, int64_t b, int64_t oy, const float *x,
                                          const float *dy, float *acc) {
  const int64_t c = g.c, o = g.o;
  const float *xs[kMaxTaps];
  int64_t tap[kMaxTaps];
  for (int64_t ox = 0; ox < g.ow; ox++) {
    const float *dys = dy + ((b * g.oh + oy) * g.ow + ox) * o;
    const int64_t n = inputTaps(g, b, oy, ox, x, xs, tap);
    for (int64_t p = 0; p < n; p++)
      for (int64_t r = 0; r < o; r++) axpy(dys[r], xs[p], acc + (tap[p] * o + r) * c, c);
  }
}

// ---- The thin convolutions' fast path: stride 1, undilated, the wide side's channels in 16s (at most 64) ----
// What the flows and U-Nets run. Each pixel's channels are whole vectors of 16, the accumulators are vector
// registers of their own (one per output channel and 16 input channels, so the adds of neighbouring pixels overlap),
// and the taps are found by arithmetic, not gathered: 2.6–4× the general loops above, which remain for the rest.

// Always inlined: a 64-byte vector passed to or from a function compiled for another target (the clones call these)
// would cross a changed ABI.
#define GENLAB_VECTOR_INLINE inline __attribute__((always_inline))
typedef float v16 __attribute__((vector_size(64)));
GENLAB_VECTOR_INLINE v16 load16(const float *p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
GENLAB_VECTOR_INLINE void store16(float *p, v16 v) { std::memcpy(p, &v, sizeof v); }
// The 16 lanes' sum, pairwise (lane k + lane k + 8, then + 4, + 2, + 1), in registers: through memory, the adds
// waited on each other's stores, and took half of a thin convolution's time.
GENLAB_VECTOR_INLINE float lanes(v16 v) {
  typedef int32_t i16 __attribute__((vector_size(64)));
  v += __builtin_shuffle(v, i16{8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7});
  v += __builtin_shuffle(v, i16{4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11});
  v += __builtin_shuffle(v, i16{2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13});
  v += __builtin_shuffle(v, i16{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14});
  return v[0];
}

bool thinFast(const ConvGeometry &g, int64_t wide) {
  return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && wide % 16 == 0 && wide >= 16 && wide <= 64;
}

// y[b, oy, ·] to O channels from C = 16·CV: wt as [o][tap][c].
template <int CV, int O>
GENLAB_VECTOR_INLINE void thinForwardFastRow(const ConvGeometry &g, int64_t b, int64_t oy, const float *x,
                                             const float *wt, const float *bias, int32_t activation, float alpha,
                                             float *y) {
  constexpr int64_t C = 16 * CV;
  const int64_t taps = g.taps();
  for (int64_t ox = 0; ox < g.ow; ox++) {
    v16 acc[O][CV] = {};
    for (int64_t i = 0; i < g.kh; i++) {
      const int64_t iy = oy + i - g.pt;
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t j = 0; j < g.kw; j++) {
        const int64_t ix = ox + j - g.pl;
        if (ix < 0 || ix >= g.w) continue;
        const float *xp = x + ((b * g.h + iy) * g.w + ix) * C;
        const float *wp = wt + (i * g.kw + j) * C;
        for (int cv = 0; cv < CV; cv++) {
          const v16 xv = load16(xp + 16 * cv);
          for (int r = 0; r < O; r++) acc[r][cv] += xv * load16(wp + r * taps * C + 16 * cv);
        }
      }
    }
    float *ys = y + ((b * g.oh + oy) * g.ow + ox) * O;
    for (int r = 0; r < O; r++) {
      v16 total = acc[r][0];
      for (int cv = 1; cv < CV; cv++) total += acc[r][cv];
      ys[r] = activate(activation, lanes(total) + (bias ? bias[r] : 0.f), alpha);
    }
  }
}

// dx[b, iy, ·] to Q ≤ 4 input channels from dy's O = 16·OV channels: w as HWIO ([tap][q][o]).
template <int OV, int Q>
GENLAB_VECTOR_INLINE void thinBackwardDataFastRow(const ConvGeometry &g, int64_t b, int64_t iy, const float *dy,
                                                  const float *w, float *dx) {
  constexpr int64_t O = 16 * OV;
  for (int64_t ix = 0; ix < g.w; ix++) {
    v16 acc[Q][OV] = {};
    for (int64_t i = 0; i < g.kh; i++) {
      const int64_t oy = iy + g.pt - i;
      if (oy < 0 || oy >= g.oh) continue;
      for (int64_t j = 0; j < g.kw; j++) {
        const int64_t ox = ix + g.pl - j;
        if (ox < 0 || ox >= g.ow) continue;
        const float *dp = dy + ((b * g.oh + oy) * g.ow + ox) * O;
        const float *wp = w + (i * g.kw + j) * Q * O;
        for (int ov = 0; ov < OV; ov++) {
          const v16 dv = load16(dp + 16 * ov);
          for (int q = 0; q < Q; q++) acc[q][ov] += dv * load16(wp + q * O + 16 * ov);
        }
      }
    }
    float *dxs = dx + ((b * g.h + iy) * g.w + ix) * Q;
    for (int q = 0; q < Q; q++) {
      v16 total = acc[q][0];
      for (int ov = 1; ov < OV; ov++) total += acc[q][ov];
      dxs[q] = lanes(total);
    }
  }
}

// dw += Σ x ⋆ dy over output row (b, oy), to O ≤ 4 channels from C = 16·CV: acc as [tap][o][c]. Each tap's sums
// over the row stay in registers, and are added to acc once.
template <int CV, int O>
GENLAB_VECTOR_INLINE void thinBackwardWeightsFastRow(const ConvGeometry &g, int64_t b, int64_t oy, const float *x,
                                                     const float *dy, float *acc) {
  constexpr int64_t C = 16 * CV;
  for (int64_t i = 0; i < g.kh; i++) {
    const int64_t iy = oy + i - g.pt;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t j = 0; j < g.kw; j++) {
      // The outputs whose tap (i, j) reads inside the row: ix = ox + j − pl in [0, w).
      const int64_t from = std::max<int64_t>(0, g.pl - j), to = std::min<int64_t>(g.ow, g.w + g.pl - j);
      v16 sum[O][CV] = {};
      for (int64_t ox = from; ox < to; ox++) {
        const float *xp = x + ((b * g.h + iy) * g.w + ox + j - g.pl) * C;
        const float *dp = dy + ((b * g.oh + oy) * g.ow + ox) * O;
        for (int cv = 0; cv < CV; cv++) {
          const v16 xv = load16(xp + 16 * cv);
          for (int r = 0; r < O; r++) sum[r][cv] += xv * dp[r];
        }
      }
      float *a = acc + (i * g.kw + j) * O * C;
      for (int r = 0; r < O; r++)
        for (int cv = 0; cv < CV; cv++) store16(a + r * C + 16 * cv, load16(a + r * C + 16 * cv) + sum[r][cv]);
    }
  }
}

// The row functions by their sizes (the wide side's vectors of 16, the thin side's channels), for the clones; any
// other size (none reaches here) takes the general row.
#define GENLAB_THIN_CASES(CALL) \
  CALL(1, 1) CALL(1, 2) CALL(1, 3) CALL(1, 4) CALL(2, 1) CALL(2, 2) CALL(2, 3) CALL(2, 4) \
  CALL(3, 1) CALL(3, 2) CALL(3, 3) CALL(3, 4) CALL(4, 1) CALL(4, 2) CALL(4, 3) CALL(4, 4)

VECTOR_CLONES void thinForwardFastRows(const ConvGeometry &g, int64_t row, const float *x, const float *wt,
                                       const float *bias, int32_t activation, float alpha, float *y) {
  const int64_t b = row / g.oh, oy = row % g.oh;
  switch (g.c / 16 * 8 + g.o) {
#define GENLAB_CASE(V, T) \
  case V * 8 + T: return thinForwardFastRow<V, T>(g, b, oy, x, wt, bias, activation, alpha, y);
    GENLAB_THIN_CASES(GENLAB_CASE)
#undef GENLAB_CASE
    default: thinForwardRow(g, b, oy, x, wt, bias, activation, alpha, y);
  }
}

VECTOR_CLONES void thinBackwardDataFastRows(const ConvGeometry &g, int64_t row, const float *dy, const float *w,
                                            float *dx) {
  const int64_t b = row / g.h, iy = row % g.h;
  switch (g.o / 16 * 8 + g.c) {
#define GENLAB_CASE(V, T) \
  case V * 8 + T: return thinBackwardDataFastRow<V, T>(g, b, iy, dy, w, dx);
    GENLAB_THIN_CASES(GENLAB_CASE)
#undef GENLAB_CASE
    default: thinBackwardDataRow(g, b, iy, dy, w, dx);
  }
}

VECTOR_CLONES void thinBackwardWeightsFastRows(const ConvGeometry &g, int64_t row, const float *x, const float *dy,
                                               float *acc) {
  const int64_t b = row / g.oh, oy = row % g.oh;
  switch (g.c / 16 * 8 + g.o) {
#define GENLAB_CASE(V, T) \
  case V * 8 + T: return thinBackwardWeightsFastRow<V, T>(g, b, oy, x, dy, acc);
    GENLAB_THIN_CASES(GENLAB_CASE)
#undef GENLAB_CASE
    default: thinBackwardWeightsRow(g, b, oy, x, dy, acc);
  }
}
#undef GENLAB_THIN_CASES

void thinForward(const ConvGeometry &g, const float *x, const float *wt, const float *bias, int32_t activation,
                 float alpha, float *y) {
  const bool fast = thinFast(g, g.c);
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < g.n * g.oh; row++) {
    if (fast)
      thinForwardFastRows(g, row, x, wt, bias, activation, alpha, y);
    else
      thinForwardRow(g, row / g.oh, row % g.oh, x, wt, bias, activation, alpha, y);
  }
}

void thinBackwardData(const ConvGeometry &g, const float *dy, const float *w, float *dx) {
  const bool fast = thinFast(g, g.o);
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < g.n * g.h; row++) {
    if (fast)
      thinBackwardDataFastRows(g, row, dy, w, dx);
    else
      thinBackwardDataRow(g, row / g.h, row % g.h, dy, w, dx);
  }
}

// Each thread sums its rows into its own [tap][o][c], then the threads' sums are added into `sum`.
void thinBackwardWeights(const ConvGeometry &g, const float *x, const float *dy, float *sum) {
  const int64_t size = g.taps() * g.o * g.c;
  const bool fast = thinFast(g, g.c);
#pragma omp parallel
  {
    std::vector<float> acc(size_t(size), 0.f);
#pragma omp for schedule(static) nowait
    for (int64_t row = 0; row < g.n * g.oh; row++) {
      if (fast)
        thinBackwardWeightsFastRows(g, row, x, dy, acc.data());
      else
        thinBackwardWeightsRow(g, row / g.oh, row % g.oh, x, dy, acc.data());
    }
#pragma omp critical
    for (int64_t e = 0; e < size; e++) sum[e] += acc[size_t(e)];
  }
}

// Offsets: x, w (HWIO), bias, y.
struct ThinConvForward : Entry {
  ConvGeometry g;
  bool hasBias;
  int32_t activation;
  float alpha;
  std::vector<float> wt;
  explicit ThinConvForward(const int32_t *p)
      : g(p), hasBias(p[cHasBias] != 0), activation(p[cActivation]), alpha(floatFromBits(p[cAlphaBits])) {
    if (activation < kLinear || activation > kLeakyRelu) throw std::runtime_error("unknown activation");
    wt.resize(size_t(g.o * g.taps() * g.c));
    impl = "genlab thin convolution";
  }
  void run(float *heap, const int32_t *off) override {
    const float *w = heap + off[1];
    const int64_t taps = g.taps(), c = g.c, o = g.o;
    for (int64_t t = 0; t < taps; t++)
      for (int64_t q = 0; q < c; q++)
        for (int64_t r = 0; r < o; r++) wt[size_t((r * taps + t) * c + q)] = w[(t * c + q) * o + r];
    thinForward(g, heap + off[0], wt.data(), hasBias ? heap + off[2] : nullptr, activation, alpha, heap + off[3]);
  }
};

// Offsets: dy, w (HWIO), dx.
struct ThinConvBackwardData : Entry {
  ConvGeometry g;
  explicit ThinConvBackwardData(const int32_t *p) : g(p) { impl = "genlab thin convolution"; }
  void run(float *heap, const int32_t *off) override { thinBackwardData(g, heap + off[0], heap + off[1], heap + off[2]); }
};

// Offsets: x, dy, dw (HWIO).
struct ThinConvBackwardWeights : Entry {
  ConvGeometry g;
  std::vector<float> sum;
  explicit ThinConvBackwardWeights(const int32_t *p) : g(p), sum(size_t(g.taps() * g.o * g.c)) {
    impl = "genlab thin convolution";
  }
  void run(float *heap, const int32_t *off) override {
    std::fill(sum.begin(), sum.end(), 0.f);
    thinBackwardWeights(g, heap + off[0], heap + off[1], sum.data());
    float *dw = heap + off[2];
    const int64_t taps = g.taps(), c = g.c, o = g.o;
    for (int64_t t = 0; t < taps; t++)
      for (int64_t q = 0; q < c; q++)
        for (int64_t r = 0; r < o; r++) dw[(t * c + q) * o + r] = sum[size_t((t * o + r) * c + q)];
  }
};

// Whether the thin loops run a convolution call instead of oneDNN, as measured against it on 2 cores (AVX-512) at
// [64, 28 | 14 | 7, 28 | 14 | 7] with 48 channels on the wide side (ms, thin / oneDNN). The general loops: the
// forward pass to 1 or 2 channels (1.8 / 3.4, 0.83 / 1.5; to 4 they tie), the gradient with respect to an input of
// 1 or 2 channels (1.9 / 7.1, 0.83 / 1.4; of 4, 0.37 / 0.32), the weights' gradient to 1, 2 or 4 channels (1.5 / 6.7,
// 0.53 / 1.5, 0.33 / 0.37). The fast path (thinFast), where it applies, takes 4 on the thin side in every direction:
// forward to 1, 2 or 4 channels 0.89 / 3.4, 0.32 / 1.5, 0.10 / 0.36; the input gradient of 1, 2 or 4, 0.71 / 7.1,
// 0.30 / 1.4, 0.11 / 0.17; the weights' gradient to 1, 2 or 4, 0.47 / 6.7, 0.25 / 1.5, 0.07 / 0.37.
// oneDNN's own gradient with respect to the input for a thin output is already the faster (0.56 against 1.4).
constexpr int64_t kThinFast = 4;

bool thinConv(const int32_t *p) {
  if (p[cDH] < 1 || p[cDW] < 1 || p[cSH] < 1 || p[cSW] < 1 || int64_t(p[cKH]) * p[cKW] > kMaxTaps) return false;
  const ConvGeometry g(p);
  switch (p[0]) {
    case kConv2D: return p[cO] <= (thinFast(g, g.c) ? kThinFast : kThinForward);
    case kConv2DBackpropInput: return p[cC] <= (thinFast(g, g.o) ? kThinFast : kThinInput);
    case kConv2DBackpropFilter: return p[cO] <= kThinWeights;
    default: return false;
  }
}

// One cache entry per distinct description (the ints before the offsets) of a convolution or matrix product. An entry that could not be built is
// remembered as null, so a rejected shape costs oneDNN's refusal once.
std::map<std::vector<int32_t>, std::unique_ptr<Entry>> cache;

// How many ints describe each operation, and how many heap offsets follow them.
constexpr size_t kFields[kOpCount] = {cFields, cFields, cFields, mFields, aFields, bFields, uFields, rFields,
                                      nFields, gFields, tFields, tFields, kRowsFields, lFields, lFields};
constexpr size_t kOffsets[kOpCount] = {4, 4, 4, 4, 7, 3, 2, 2, 6, 10, 3, 5, 2, 2, 2};
bool knownOp(int32_t op) { return op >= 0 && op < kOpCount; }
size_t fieldsOf(int32_t op) { return kFields[op]; }
size_t offsetsOf(int32_t op) { return kOffsets[op]; }

int64_t workOf(const int32_t *p) {
  switch (p[0]) {
    case kConv2D:
    case kConv2DBackpropInput:
    case kConv2DBackpropFilter:
      // A thin convolution's loops do a sixteenth of the work per multiply-add that oneDNN's blocked kernels do: it
      // shares its threads from 2 M multiply-adds (a flow's heads do; a PixelCNN sampling window's logits do not).
      return int64_t(p[cN]) * p[cOH] * p[cOW] * p[cO] * p[cKH] * p[cKW] * p[cC] / (thinConv(p) ? 16 : 256);
    case kMatMul: return int64_t(std::max(p[mBatchA], p[mBatchB])) * p[mM] * p[mN] * p[mK] / 256;
    case kBinary: return product(p + bOutDims, p[bRank]);
    case kUnary: return p[uSize];
    case kReduce: return int64_t(p[rOuter]) * p[rReduced] * p[rInner];
    case kBatchNorm: return int64_t(p[nRows]) * p[nC];
    case kBatchNormGrad: return int64_t(p[gRows]) * p[gC] * 2;
    case kMoments:
    case kMomentsGrad: return int64_t(p[tRows]) * p[tC] * 2;
    case kAdam: return int64_t(p[aSize]) * 4;
    case kCopyRows: return int64_t(p[kRows]) * p[kWidth] * 2;
    case kBlockSpread:
    case kBlockSum: return int64_t(p[lN]) * p[lH] * p[lW] * p[lC] * 2;
    default: return 0;
  }
}

// Bounds the cache: a notebook that runs many shapes (every batch size, every window) keeps at most this many.
constexpr size_t kCacheLimit = 4096;

Entry *entryFor(const int32_t *p, size_t length, std::string *error) {
  if (!knownOp(p[0])) {
    *error = "unknown operation";
    return nullptr;
  }
  size_t fields = fieldsOf(p[0]);
  if (length < fields + offsetsOf(p[0])) {
    *error = "the description is too short";
    return nullptr;
  }
  std::vector<int32_t> key(p, p + fields);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second.get();
  if (cache.size() >= kCacheLimit) cache.clear();
  std::unique_ptr<Entry> entry;
  try {
    switch (p[0]) {
      case kConv2D: entry.reset(thinConv(p) ? static_cast<Entry *>(new ThinConvForward(p)) : new ConvForward(p)); break;
      case kConv2DBackpropInput:
        entry.reset(thinConv(p) ? static_cast<Entry *>(new ThinConvBackwardData(p)) : new ConvBackwardData(p));
        break;
      case kConv2DBackpropFilter:
        entry.reset(thinConv(p) ? static_cast<Entry *>(new ThinConvBackwardWeights(p)) : new ConvBackwardWeights(p));
        break;
      case kCopyRows: entry.reset(new CopyRows(p)); break;
      case kBlockSpread: entry.reset(new Block(p, false)); break;
      case kBlockSum: entry.reset(new Block(p, true)); break;
      case kMatMul: entry.reset(new MatMul(p)); break;
      case kBinary: entry.reset(new Binary(p)); break;
      case kUnary: entry.reset(new Unary(p)); break;
      case kReduce: entry.reset(new Reduce(p)); break;
      case kBatchNorm: entry.reset(new BatchNorm(p)); break;
      case kBatchNormGrad: entry.reset(new BatchNormGrad(p)); break;
      case kMoments: entry.reset(new Moments(p)); break;
      case kMomentsGrad: entry.reset(new MomentsGrad(p)); break;
      default: *error = "unknown operation"; return nullptr;
    }
  } catch (const std::exception &e) {
    *error = e.what();
    entry.reset();
  }
  if (entry) entry->work = workOf(p);
  Entry *raw = entry.get();
  cache.emplace(std::move(key), std::move(entry));
  return raw;
}

// ---- N-API glue ----

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "genlab native: " #call " failed"); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

template <typename T>
bool typedArray(napi_env env, napi_value value, napi_typedarray_type want, T **data, size_t *length) {
  bool is = false;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void *raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != want || raw == nullptr) return false;
  *data = static_cast<T *>(raw);
  return true;
}

napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

// run(heap: Float32Array, call: Int32Array): boolean. False when oneDNN cannot run this call (use the wasm kernel).
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *heap = nullptr;
  int32_t *call = nullptr;
  size_t heapLength = 0, callLength = 0;
  if (argc < 2 || !typedArray(env, argv[0], napi_float32_array, &heap, &heapLength) ||
      !typedArray(env, argv[1], napi_int32_array, &call, &callLength) || callLength == 0) {
    napi_throw_type_error(env, nullptr, "genlab native: run(heap: Float32Array, call: Int32Array)");
    return nullptr;
  }
  if (call[0] == kAdam) {
    // Its floats change every step, so it is not cached; nothing in it is compiled.
    if (callLength < aFields + offsetsOf(kAdam)) return boolean(env, false);
    useThreadsFor(workOf(call));
    Adam(call).run(heap, call + aFields);
    return boolean(env, true);
  }
  std::string error;
  Entry *entry = entryFor(call, callLength, &error);
  if (!entry) return boolean(env, false);
  try {
    useThreadsFor(entry->work);
    entry->run(heap, call + fieldsOf(call[0]));
    cpuStream().wait();
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, (std::string("genlab native: oneDNN failed: ") + e.what()).c_str());
    return nullptr;
  }
  return boolean(env, true);
}

// explain(call: Int32Array): string. Which oneDNN implementation runs this call, or why none can.
napi_value Explain(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t *call = nullptr;
  size_t callLength = 0;
  if (argc < 1 || !typedArray(env, argv[0], napi_int32_array, &call, &callLength) || callLength == 0) {
    napi_throw_type_error(env, nullptr, "genlab native: explain(call: Int32Array)");
    return nullptr;
  }
  std::string error;
  Entry *entry = entryFor(call, callLength, &error);
  std::string text = entry ? entry->impl : "rejected: " + (error.empty() ? std::string("by oneDNN earlier") : error);
  napi_value out;
  CHECK(napi_create_string_utf8(env, text.c_str(), text.size(), &out));
  return out;
}

// setThreads(n): the OpenMP threads oneDNN uses for calls from this thread.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "genlab native: setThreads(n) needs a whole number n ≥ 1");
    return nullptr;
  }
  maxThreads = n;
  currentThreads = -1;
  return nullptr;
}

// setWinograd(on: boolean): whether the 3 × 3 convolutions that qualify run Winograd (see kWinogradPositions).
napi_value SetWinograd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  bool on = true;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, nullptr, "genlab native: setWinograd(on) needs a boolean");
    return nullptr;
  }
  if (on != winogradOn) cache.clear();  // its convolutions were built for the other choice
  winogradOn = on;
  return nullptr;
}

// versions(): { onednn: 'x.y.z', threads: n, cached: n }.
napi_value Versions(napi_env env, napi_callback_info) {
  const dnnl_version_t *v = dnnl_version();
  std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value out, value;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, version.c_str(), version.size(), &value));
  CHECK(napi_set_named_property(env, out, "onednn", value));
  CHECK(napi_create_int32(env, maxThreads, &value));
  CHECK(napi_set_named_property(env, out, "threads", value));
  CHECK(napi_create_int32(env, int32_t(cache.size()), &value));
  CHECK(napi_set_named_property(env, out, "cached", value));
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"explain", nullptr, Explain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setWinograd", nullptr, SetWinograd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"versions", nullptr, Versions, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
