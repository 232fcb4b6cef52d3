// Node-API bindings. Every function takes the tfjs backend's TypedArrays directly (no copies)
// and writes into an output array the JS side allocated. Argument checks are the JS side's job
// (src/addon.ts wraps these with typed signatures); here we only guard against wrong kinds.
#include <napi.h>

#include <cstdlib>

#include <string>
#include <vector>

#include "dispatch.h"
#include "openblas.h"

namespace {

template <class T>
T* data_of(const Napi::Value& v) {
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

int64_t length_of(const Napi::Value& v) { return static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength()); }

int64_t num(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }

std::vector<int64_t> ints(const Napi::Value& v) {
  const int32_t* p = data_of<int32_t>(v);
  return std::vector<int64_t>(p, p + length_of(v));
}

bool check_arrays(const Napi::CallbackInfo& info, std::initializer_list<size_t> positions) {
  for (size_t i : positions) {
    if (i >= info.Length() || !info[i].IsTypedArray()) {
      Napi::TypeError::New(info.Env(), "sentencelab native: argument " + std::to_string(i) + " must be a TypedArray")
          .ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", sl::table().name);
  Napi::Array avail = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& s : sl::supported_simd()) avail.Set(i++, s);
  o.Set("simdAvailable", avail);
  o.Set("threads", sl::threads());
  o.Set("gemmTile", std::to_string(sl::table().gemm_mr) + "x" + std::to_string(sl::table().gemm_nr));
  o.Set("compiler", "g++ " __VERSION__);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("blas", sl::openblas_active() ? "openblas" : "builtin");
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  sl::set_threads(static_cast<int>(num(info[0])));
  return Napi::Number::New(info.Env(), sl::threads());
}

// setBlas("openblas" | "builtin") -> "" or why OpenBLAS is unavailable
Napi::Value SetBlas(const Napi::CallbackInfo& info) {
  const std::string which = info[0].As<Napi::String>().Utf8Value();
  return Napi::String::New(info.Env(), sl::openblas_use(which == "openblas", sl::threads()));
}

Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), sl::set_simd(info[0].As<Napi::String>().Utf8Value()));
}

// matmul(a, b, c, batchA: Int32Array, batchB: Int32Array, M, N, K, transA, transB)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 3, 4})) return info.Env().Undefined();
  sl::matmul(data_of<float>(info[0]), data_of<float>(info[1]), data_of<float>(info[2]), length_of(info[3]),
             data_of<int32_t>(info[3]), data_of<int32_t>(info[4]), num(info[5]), num(info[6]), num(info[7]),
             info[8].As<Napi::Boolean>().Value(), info[9].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// biasAct(c, bias | null, rows, cols, act, alpha)
Napi::Value BiasAct(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0})) return info.Env().Undefined();
  const float* bias = info[1].IsTypedArray() ? data_of<float>(info[1]) : nullptr;
  sl::bias_act(data_of<float>(info[0]), bias, num(info[2]), num(info[3]), static_cast<int>(num(info[4])),
               info[5].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// binary(op, a, b, out, shape: Int32Array, stridesA: Int32Array, stridesB: Int32Array)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {1, 2, 3, 4, 5, 6})) return info.Env().Undefined();
  std::vector<int64_t> shape = ints(info[4]), sa = ints(info[5]), sb = ints(info[6]);
  sl::binary(static_cast<int>(num(info[0])), data_of<float>(info[1]), data_of<float>(info[2]), data_of<float>(info[3]),
             static_cast<int>(shape.size()), shape.data(), sa.data(), sb.data());
  return info.Env().Undefined();
}

// unary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {1, 2})) return info.Env().Undefined();
  sl::unary(static_cast<int>(num(info[0])), data_of<float>(info[1]), data_of<float>(info[2]), length_of(info[2]),
            info[3].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// softmax(x, out, cols, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1})) return info.Env().Undefined();
  const int64_t cols = num(info[2]);
  sl::softmax(data_of<float>(info[0]), data_of<float>(info[1]), length_of(info[1]) / cols, cols,
              info[3].As<Napi::Boolean>().Value() ? 1 : 0);
  return info.Env().Undefined();
}

// reduce(op, x, out, outer, R, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {1, 2})) return info.Env().Undefined();
  sl::reduce(static_cast<int>(num(info[0])), data_of<float>(info[1]), data_of<float>(info[2]), num(info[3]),
             num(info[4]), num(info[5]));
  return info.Env().Undefined();
}

// transpose(x, out, shape: Int32Array, perm: Int32Array)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 3})) return info.Env().Undefined();
  std::vector<int64_t> shape = ints(info[2]), perm = ints(info[3]);
  sl::transpose(data_of<uint32_t>(info[0]), data_of<uint32_t>(info[1]), static_cast<int>(shape.size()), shape.data(),
                perm.data());
  return info.Env().Undefined();
}

// gather(x, indices: Int32Array, out, outer, axisSize, inner) -> -1 or the first bad position
Napi::Value Gather(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2})) return info.Env().Undefined();
  const int64_t bad = sl::gather(data_of<uint32_t>(info[0]), data_of<int32_t>(info[1]), data_of<uint32_t>(info[2]),
                                 num(info[3]), num(info[4]), num(info[5]), length_of(info[1]));
  return Napi::Number::New(info.Env(), static_cast<double>(bad));
}

// segmentSum(x, ids: Int32Array, out, numSegments, inner)
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2})) return info.Env().Undefined();
  sl::segment_sum(data_of<float>(info[0]), data_of<int32_t>(info[1]), data_of<float>(info[2]), length_of(info[1]),
                  num(info[3]), num(info[4]));
  return info.Env().Undefined();
}

// slice(x, out, shape: Int32Array, begin: Int32Array, size: Int32Array)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 3, 4})) return info.Env().Undefined();
  std::vector<int64_t> shape = ints(info[2]), begin = ints(info[3]), size = ints(info[4]);
  sl::slice(data_of<uint32_t>(info[0]), data_of<uint32_t>(info[1]), static_cast<int>(shape.size()), shape.data(),
            begin.data(), size.data());
  return info.Env().Undefined();
}

// pad(x, out, shape: Int32Array, before: Int32Array, outShape: Int32Array, fill: 1-element array)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 3, 4, 5})) return info.Env().Undefined();
  std::vector<int64_t> shape = ints(info[2]), before = ints(info[3]), out_shape = ints(info[4]);
  sl::pad(data_of<uint32_t>(info[0]), data_of<uint32_t>(info[1]), static_cast<int>(shape.size()), shape.data(),
          before.data(), out_shape.data(), data_of<uint32_t>(info[5])[0]);
  return info.Env().Undefined();
}

// copyRows(src, srcStride, dst, dstOffset, dstStride, rows, width)
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 2})) return info.Env().Undefined();
  sl::copy_rows(data_of<uint32_t>(info[0]), num(info[1]), data_of<uint32_t>(info[2]) + num(info[3]), num(info[4]),
                num(info[5]), num(info[6]));
  return info.Env().Undefined();
}

const float* opt_f32(const Napi::Value& v) { return v.IsTypedArray() ? data_of<float>(v) : nullptr; }
float f32(const Napi::Value& v) { return v.As<Napi::Number>().FloatValue(); }

// norm(x, gamma | null, beta | null, y, cols, eps, center)
Napi::Value Norm(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 3})) return info.Env().Undefined();
  const int64_t cols = num(info[4]);
  sl::norm(data_of<float>(info[0]), opt_f32(info[1]), opt_f32(info[2]), data_of<float>(info[3]),
           length_of(info[0]) / cols, cols, f32(info[5]), info[6].As<Napi::Boolean>().Value() ? 1 : 0);
  return info.Env().Undefined();
}

// normGrad(dy, x, gamma | null, dx, dgamma | null, dbeta | null, cols, eps, center)
Napi::Value NormGrad(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 3})) return info.Env().Undefined();
  const int64_t cols = num(info[6]);
  sl::norm_grad(data_of<float>(info[0]), data_of<float>(info[1]), opt_f32(info[2]), data_of<float>(info[3]),
                info[4].IsTypedArray() ? data_of<float>(info[4]) : nullptr,
                info[5].IsTypedArray() ? data_of<float>(info[5]) : nullptr, length_of(info[1]) / cols, cols,
                f32(info[7]), info[8].As<Napi::Boolean>().Value() ? 1 : 0);
  return info.Env().Undefined();
}

// crossEntropy(logits, targets: Int32Array, vocab, ignoreIndex, gamma) -> mean loss (gamma > 0: focal)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1})) return info.Env().Undefined();
  const float loss = sl::xent(data_of<float>(info[0]), data_of<int32_t>(info[1]), length_of(info[1]), num(info[2]),
                              static_cast<int32_t>(num(info[3])), f32(info[4]));
  return Napi::Number::New(info.Env(), loss);
}

// crossEntropyGrad(dy, logits, targets: Int32Array, dlogits, vocab, ignoreIndex, gamma)
Napi::Value CrossEntropyGrad(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {1, 2, 3})) return info.Env().Undefined();
  sl::xent_grad(f32(info[0]), data_of<float>(info[1]), data_of<int32_t>(info[2]), data_of<float>(info[3]),
                length_of(info[2]), num(info[4]), static_cast<int32_t>(num(info[5])), f32(info[6]));
  return info.Env().Undefined();
}

// maskedSoftmax(x, bias | null, biasStrides: Int32Array(4), y, shape: Int32Array(4), scale, causal, offset)
Napi::Value MaskedSoftmax(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 2, 3, 4})) return info.Env().Undefined();
  std::vector<int64_t> sb = ints(info[2]), shape = ints(info[4]);
  sl::masked_softmax(data_of<float>(info[0]), opt_f32(info[1]), sb.data(), data_of<float>(info[3]), shape[0],
                     shape[1], shape[2], shape[3], f32(info[5]), info[6].As<Napi::Boolean>().Value(), num(info[7]));
  return info.Env().Undefined();
}

// softmaxGrad(dy, y, dx, cols, scale)
Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2})) return info.Env().Undefined();
  const int64_t cols = num(info[3]);
  sl::softmax_grad(data_of<float>(info[0]), data_of<float>(info[1]), data_of<float>(info[2]),
                   length_of(info[2]) / cols, cols, f32(info[4]));
  return info.Env().Undefined();
}

// The AttnShape of attention(...)/attentionGrad(...): dims Int32Array [B, H, Q, KV, D, Dv].
sl::AttnShape attn_shape(const Napi::Value& dims, bool biased, const float* bias, const std::vector<int64_t>& sb,
                         const Napi::Value& scale, const Napi::Value& causal, const Napi::Value& offset) {
  const std::vector<int64_t> d = ints(dims);
  return {d[0], d[1], d[2], d[3], d[4], d[5], f32(scale), causal.As<Napi::Boolean>().Value(), num(offset), biased,
          bias, sb.data()};
}

// attention(q, k, v, bias | null, biasStrides: Int32Array(4), out, probs, dims: Int32Array(6), scale, causal, offset)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 4, 5, 6, 7})) return info.Env().Undefined();
  const std::vector<int64_t> sb = ints(info[4]);
  const float* bias = opt_f32(info[3]);
  const sl::AttnShape a = attn_shape(info[7], bias != nullptr, bias, sb, info[8], info[9], info[10]);
  sl::attention(a, data_of<float>(info[0]), data_of<float>(info[1]), data_of<float>(info[2]), data_of<float>(info[5]),
                data_of<float>(info[6]));
  return info.Env().Undefined();
}

// attentionGrad(dout, q, k, v, probs, dq, dk, dv, dims, scale, causal, offset, biased)
Napi::Value AttentionGrad(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 3, 4, 5, 6, 7, 8})) return info.Env().Undefined();
  const std::vector<int64_t> sb(4, 0);
  const sl::AttnShape a =
      attn_shape(info[8], info[12].As<Napi::Boolean>().Value(), nullptr, sb, info[9], info[10], info[11]);
  sl::attention_grad(a, data_of<float>(info[0]), data_of<float>(info[1]), data_of<float>(info[2]),
                     data_of<float>(info[3]), data_of<float>(info[4]), data_of<float>(info[5]), data_of<float>(info[6]),
                     data_of<float>(info[7]));
  return info.Env().Undefined();
}

// gelu(x, bias | null, y, cols)
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 2})) return info.Env().Undefined();
  const int64_t cols = num(info[3]);
  sl::gelu(data_of<float>(info[0]), opt_f32(info[1]), data_of<float>(info[2]), length_of(info[2]) / cols, cols);
  return info.Env().Undefined();
}

// geluGrad(dy, x, bias | null, dx, cols)
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 3})) return info.Env().Undefined();
  const int64_t cols = num(info[4]);
  sl::gelu_grad(data_of<float>(info[0]), data_of<float>(info[1]), opt_f32(info[2]), data_of<float>(info[3]),
                length_of(info[3]) / cols, cols);
  return info.Env().Undefined();
}

// adamw(p, m, v, g, pOut, mOut, vOut, scalars: Float32Array(9))
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1, 2, 3, 4, 5, 6, 7})) return info.Env().Undefined();
  sl::adamw(data_of<float>(info[0]), data_of<float>(info[1]), data_of<float>(info[2]), data_of<float>(info[3]),
            data_of<float>(info[4]), data_of<float>(info[5]), data_of<float>(info[6]), length_of(info[0]),
            data_of<float>(info[7]));
  return info.Env().Undefined();
}

// heads(src, dst, batch, len, heads, headDim, width, col0, bias | null, split)
Napi::Value Heads(const Napi::CallbackInfo& info) {
  if (!check_arrays(info, {0, 1})) return info.Env().Undefined();
  sl::heads(data_of<float>(info[0]), data_of<float>(info[1]), num(info[2]), num(info[3]), num(info[4]), num(info[5]),
            num(info[6]), num(info[7]), opt_f32(info[8]), info[9].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const char* blas = std::getenv("SENTENCELAB_NATIVE_BLAS");
  if (blas && std::string(blas) == "openblas") sl::openblas_use(true, sl::threads());
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd));
  exports.Set("setBlas", Napi::Function::New(env, SetBlas));
  exports.Set("matmul", Napi::Function::New(env, MatMul));
  exports.Set("biasAct", Napi::Function::New(env, BiasAct));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("segmentSum", Napi::Function::New(env, SegmentSum));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows));
  exports.Set("norm", Napi::Function::New(env, Norm));
  exports.Set("normGrad", Napi::Function::New(env, NormGrad));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy));
  exports.Set("crossEntropyGrad", Napi::Function::New(env, CrossEntropyGrad));
  exports.Set("maskedSoftmax", Napi::Function::New(env, MaskedSoftmax));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad));
  exports.Set("attention", Napi::Function::New(env, Attention));
  exports.Set("attentionGrad", Napi::Function::New(env, AttentionGrad));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("heads", Napi::Function::New(env, Heads));
  return exports;
}

}  // namespace

NODE_API_MODULE(sentencelab_native, Init)
