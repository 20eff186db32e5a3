// The N-API boundary: a handful of functions over integer buffer ids (addon.ts declares their
// TypeScript type). Everything crossing it is validated here, so a bug above can raise a
// JavaScript Error but never make a kernel read or write outside a buffer.
#include <napi.h>

#include <exception>
#include <string>
#include <vector>

#include "buffers.h"
#include "call.h"
#include "cpu/gemm.h"
#include "device.h"
#include "threadpool.h"

namespace kiln {
namespace {

// Per JavaScript environment (main thread or a worker): its buffers and a reusable call frame.
struct State {
  explicit State(Device& device) : table(device) {}
  BufferTable table;
  std::vector<TensorRef> tensors;
};

State& state(const Napi::CallbackInfo& info) { return *info.Env().GetInstanceData<State>(); }

// Turns a C++ exception into a JavaScript Error with the same message.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

int32_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) internal_error(std::string(fn) + ": argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

DType dtype_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  int32_t d = int_arg(info, i, fn);
  if (d < 0 || d > 3) internal_error(std::string(fn) + ": unknown dtype code " + std::to_string(d));
  return static_cast<DType>(d);
}

DType dtype_of(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return DType::Float32;
    case napi_float64_array: return DType::Float64;
    case napi_int32_array: return DType::Int32;
    case napi_uint8_array: return DType::Bool;
    default: internal_error("expected a Float32Array, Float64Array, Int32Array or Uint8Array");
  }
}

Napi::TypedArray typed_arg(const Napi::CallbackInfo& info, size_t i, const Buffer& b, const char* fn) {
  if (info.Length() <= i || !info[i].IsTypedArray()) internal_error(std::string(fn) + ": argument " + std::to_string(i) + " must be a typed array");
  auto a = info[i].As<Napi::TypedArray>();
  if (dtype_of(a.TypedArrayType()) != b.dtype) {
    internal_error(std::string(fn) + ": a " + dtype_name(dtype_of(a.TypedArrayType())) + " array for a " + dtype_name(b.dtype) + " buffer");
  }
  return a;
}

void* typed_data(const Napi::TypedArray& a) {
  return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DType dtype = dtype_arg(info, 0, "alloc");
    if (info.Length() < 2 || !info[1].IsNumber()) internal_error("alloc: size must be a number");
    double size = info[1].As<Napi::Number>().DoubleValue();
    if (!(size >= 0 && size <= 9007199254740991.0)) internal_error("alloc: bad size " + std::to_string(size));
    return Napi::Number::New(info.Env(), state(info).table.alloc(dtype, static_cast<int64_t>(size)));
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    state(info).table.free(int_arg(info, 0, "free"));
    return info.Env().Undefined();
  });
}

// write(id, data): data's length may be at most the buffer's size, as with TypedArray.set.
Napi::Value Write(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    State& s = state(info);
    const Buffer& b = s.table.get(int_arg(info, 0, "write"));
    Napi::TypedArray a = typed_arg(info, 1, b, "write");
    if (a.ElementLength() > static_cast<size_t>(b.size)) {
      internal_error("write: " + std::to_string(a.ElementLength()) + " values into a buffer of " + std::to_string(b.size));
    }
    if (a.ByteLength() > 0) s.table.device().upload(b.data, typed_data(a), a.ByteLength());
    return info.Env().Undefined();
  });
}

// read(id): a new typed array of the buffer's dtype holding a copy of it.
Napi::Value Read(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    State& s = state(info);
    const Buffer& b = s.table.get(int_arg(info, 0, "read"));
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), b.bytes());
    if (b.bytes() > 0) s.table.device().download(ab.Data(), b.data, b.bytes());
    const size_t n = static_cast<size_t>(b.size);
    switch (b.dtype) {
      case DType::Float32: return Napi::Float32Array::New(info.Env(), n, ab, 0);
      case DType::Float64: return Napi::Float64Array::New(info.Env(), n, ab, 0);
      case DType::Int32: return Napi::Int32Array::New(info.Env(), n, ab, 0);
      case DType::Bool: break;
    }
    return Napi::Uint8Array::New(info.Env(), n, ab, 0);
  });
}

// run(kernel, args, floats). args is an Int32Array:
//   [numTensors, (id, rank, dims...) per tensor, numInts, ints..., numFloats]
// with the outputs last and id 0 (rank 0) for an absent optional tensor; floats is a
// Float64Array whose first numFloats values are the float attributes.
Napi::Value Run(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    State& s = state(info);
    size_t count = 0;
    const KernelRow* rows = s.table.device().kernels(&count);
    int32_t kernel = int_arg(info, 0, "run");
    if (kernel < 0 || static_cast<size_t>(kernel) >= count) internal_error("run: no kernel " + std::to_string(kernel));
    const KernelRow& row = rows[kernel];
    if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsTypedArray()) internal_error("run: expected (kernel, Int32Array, Float64Array)");
    auto args = info[1].As<Napi::TypedArray>();
    auto floats = info[2].As<Napi::TypedArray>();
    if (args.TypedArrayType() != napi_int32_array) internal_error("run: args must be an Int32Array");
    if (floats.TypedArrayType() != napi_float64_array) internal_error("run: floats must be a Float64Array");
    const int32_t* p = static_cast<const int32_t*>(typed_data(args));
    const size_t len = args.ElementLength();
    size_t pos = 0;
    auto fail = [&](const std::string& what) { internal_error(std::string(row.name) + ": " + what); };
    auto next = [&](const char* what) {
      if (pos >= len) fail(std::string("args end before ") + what);
      return p[pos++];
    };
    int32_t nt = next("the tensor count");
    if (nt < row.outputs || nt > 4096) fail("bad tensor count");
    s.tensors.resize(nt);
    for (int32_t t = 0; t < nt; t++) {
      int32_t id = next("a tensor id");
      int32_t rank = next("a rank");
      if (id == 0) {
        if (!row.optional) fail("tensor " + std::to_string(t) + " is absent, which this kernel does not allow");
        if (rank != 0) fail("an absent tensor with a shape");
        s.tensors[t] = TensorRef{};
        s.tensors[t].present = false;
        continue;
      }
      const Buffer& b = s.table.get(id);
      if (rank < 0 || rank > kMaxRank) fail("rank " + std::to_string(rank) + " is over " + std::to_string(kMaxRank));
      if (pos + rank > len) fail("args end inside a shape");
      int64_t size = 1;
      for (int32_t d = 0; d < rank; d++) {
        if (p[pos + d] < 0) fail("negative dim");
        size *= p[pos + d];
      }
      if (size != b.size) {
        fail("tensor " + std::to_string(t) + " has " + std::to_string(size) + " elements by its shape but its buffer holds " +
             std::to_string(b.size));
      }
      s.tensors[t] = TensorRef{b.data, b.dtype, b.size, rank, p + pos};
      pos += rank;
    }
    Call call;
    call.tensors = s.tensors.data();
    call.num_tensors = nt;
    call.num_ints = next("the attribute count");
    if (call.num_ints < 0 || pos + call.num_ints > len) fail("bad attribute count");
    call.ints = p + pos;
    pos += call.num_ints;
    call.num_floats = next("the float attribute count");
    if (call.num_floats < 0 || static_cast<size_t>(call.num_floats) > floats.ElementLength()) fail("bad float attribute count");
    call.floats = static_cast<const double*>(typed_data(floats));
    // As core promises: no call when there is nothing to write.
    bool work = false;
    for (int32_t t = nt - row.outputs; t < nt; t++) work = work || s.tensors[t].size > 0;
    if (work) row.fn(call);
    return info.Env().Undefined();
  });
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  State& s = state(info);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("numBuffers", Napi::Number::New(info.Env(), static_cast<double>(s.table.num_buffers())));
  o.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(s.table.num_bytes())));
  return o;
}

Napi::Value Pool(const Napi::CallbackInfo& info) {
  PoolStats p = state(info).table.device().stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("reservedBytes", Napi::Number::New(info.Env(), static_cast<double>(p.reserved_bytes)));
  o.Set("cachedBytes", Napi::Number::New(info.Env(), static_cast<double>(p.cached_bytes)));
  o.Set("hits", Napi::Number::New(info.Env(), static_cast<double>(p.hits)));
  o.Set("misses", Napi::Number::New(info.Env(), static_cast<double>(p.misses)));
  return o;
}

// clear(): frees every buffer of this environment and returns the pool's memory to the system.
Napi::Value Clear(const Napi::CallbackInfo& info) {
  State& s = state(info);
  s.table.clear();
  s.table.device().trim();
  return info.Env().Undefined();
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::instance().threads());
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    ThreadPool::instance().resize(int_arg(info, 0, "setNumThreads"));
    return info.Env().Undefined();
  });
}

Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), cpu::gemm_isa()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Device& device = cpu_device();
  env.SetInstanceData(new State(device));
  size_t count = 0;
  const KernelRow* rows = device.kernels(&count);
  Napi::Array names = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) names.Set(static_cast<uint32_t>(i), Napi::String::New(env, rows[i].name));
  exports.Set("device", Napi::String::New(env, device.name()));
  exports.Set("kernels", names);
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("run", Napi::Function::New(env, Run, "run"));
  exports.Set("memory", Napi::Function::New(env, Memory, "memory"));
  exports.Set("pool", Napi::Function::New(env, Pool, "pool"));
  exports.Set("clear", Napi::Function::New(env, Clear, "clear"));
  exports.Set("numThreads", Napi::Function::New(env, Threads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetThreads, "setNumThreads"));
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  return exports;
}

}  // namespace
}  // namespace kiln

static Napi::Object InitKilnNative(Napi::Env env, Napi::Object exports) { return kiln::Init(env, exports); }

NODE_API_MODULE(kiln_native, InitKilnNative)
