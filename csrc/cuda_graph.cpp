// CUDA graphs and caching-allocator statistics for dreamreel, which tch 0.24 does not expose.
//
// Built by build.rs with the `cc` crate. With DREAMREEL_CUDA defined (libtorch is a CUDA build and
// the CUDA runtime headers were found) it wraps at::cuda::CUDAGraph; without it every function
// reports "unavailable", so the Rust side falls back to eager execution.
//
// Every function catches C++ exceptions (c10::Error included) and returns 0 on success or -1 with
// a message in `error` (NUL-terminated, at most `error_len` bytes): no exception crosses into Rust.
#include <cstdint>
#include <cstring>
#include <string>

namespace {
void write_error(char* error, size_t error_len, const std::string& message) {
  if (error == nullptr || error_len == 0) return;
  size_t n = message.size() < error_len - 1 ? message.size() : error_len - 1;
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}
}  // namespace

#ifdef DREAMREEL_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAEvent.h>
#include <cuda_runtime_api.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <memory>
#include <optional>
#include <stdexcept>

namespace {
// One captured ascent step: the graph, and the side stream it is captured and warmed up on
// (capture is refused on the legacy default stream).
struct Graph {
  c10::DeviceIndex device;
  c10::cuda::CUDAStream stream;
  std::optional<c10::cuda::CUDAStreamGuard> guard;
  at::cuda::CUDAGraph graph;
  explicit Graph(c10::DeviceIndex device)
      : device(device), stream(c10::cuda::getStreamFromPool(false, device)) {}
};

template <typename F>
int guarded(char* error, size_t error_len, F body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    write_error(error, error_len, e.what());
  } catch (...) {
    write_error(error, error_len, "unknown C++ exception");
  }
  return -1;
}
}  // namespace

extern "C" {
int dreamreel_cuda_shim_compiled() { return 1; }

int dreamreel_cuda_device_count() {
  try {
    return static_cast<int>(c10::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

int dreamreel_graph_new(int device, void** out, char* error, size_t error_len) {
  return guarded(error, error_len, [&] { *out = new Graph(static_cast<c10::DeviceIndex>(device)); });
}

void dreamreel_graph_free(void* graph) {
  try {
    delete static_cast<Graph*>(graph);
  } catch (...) {
  }
}

// Makes the graph's side stream current (enter = 1), after it waited for the current stream's
// work, or goes back to the previous stream (enter = 0), which then waits for the side stream.
int dreamreel_graph_stream(void* graph, int enter, char* error, size_t error_len) {
  return guarded(error, error_len, [&] {
    auto* g = static_cast<Graph*>(graph);
    if (enter) {
      auto current = c10::cuda::getCurrentCUDAStream(g->device);
      c10::cuda::CUDAEvent ready;
      ready.record(current);
      ready.block(g->stream);
      g->guard.emplace(g->stream);
    } else if (g->guard) {
      g->guard.reset();
      c10::cuda::CUDAEvent done;
      done.record(g->stream);
      done.block(c10::cuda::getCurrentCUDAStream(g->device));
    }
  });
}

int dreamreel_graph_capture_begin(void* graph, char* error, size_t error_len) {
  return guarded(error, error_len, [&] {
    auto* g = static_cast<Graph*>(graph);
    c10::cuda::device_synchronize();
    g->graph.capture_begin();
  });
}

int dreamreel_graph_capture_end(void* graph, char* error, size_t error_len) {
  return guarded(error, error_len, [&] { static_cast<Graph*>(graph)->graph.capture_end(); });
}

int dreamreel_graph_replay(void* graph, char* error, size_t error_len) {
  return guarded(error, error_len, [&] { static_cast<Graph*>(graph)->graph.replay(); });
}

int dreamreel_cuda_memory(int device, int64_t* peak_allocated, int64_t* peak_reserved, char* error,
                          size_t error_len) {
  return guarded(error, error_len, [&] {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    using Agg = c10::CachingAllocator::StatType;
    *peak_allocated = stats.allocated_bytes[static_cast<size_t>(Agg::AGGREGATE)].peak;
    *peak_reserved = stats.reserved_bytes[static_cast<size_t>(Agg::AGGREGATE)].peak;
  });
}

int dreamreel_cuda_reset_peak(int device, char* error, size_t error_len) {
  return guarded(error, error_len, [&] {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
  });
}

int dreamreel_cuda_device_name(int device, char* name, size_t name_len, char* error, size_t error_len) {
  return guarded(error, error_len, [&] {
    // cudaGetDeviceProperties, not ATen's getDeviceProperties: its header pulls in cuBLAS and CCCL.
    cudaDeviceProp properties;
    cudaError_t status = cudaGetDeviceProperties(&properties, device);
    if (status != cudaSuccess) throw std::runtime_error(cudaGetErrorString(status));
    write_error(name, name_len, properties.name);
  });
}
}  // extern "C"

#else  // the stub: no CUDA here

namespace {
int unavailable(char* error, size_t error_len) {
  write_error(error, error_len, "CUDA graphs unavailable: dreamreel was built without the CUDA headers");
  return -1;
}
}  // namespace

extern "C" {
int dreamreel_cuda_shim_compiled() { return 0; }
int dreamreel_cuda_device_count() { return 0; }
int dreamreel_graph_new(int, void** out, char* error, size_t error_len) {
  *out = nullptr;
  return unavailable(error, error_len);
}
void dreamreel_graph_free(void*) {}
int dreamreel_graph_stream(void*, int, char* error, size_t error_len) { return unavailable(error, error_len); }
int dreamreel_graph_capture_begin(void*, char* error, size_t error_len) { return unavailable(error, error_len); }
int dreamreel_graph_capture_end(void*, char* error, size_t error_len) { return unavailable(error, error_len); }
int dreamreel_graph_replay(void*, char* error, size_t error_len) { return unavailable(error, error_len); }
int dreamreel_cuda_memory(int, int64_t*, int64_t*, char* error, size_t error_len) {
  return unavailable(error, error_len);
}
int dreamreel_cuda_reset_peak(int, char* error, size_t error_len) { return unavailable(error, error_len); }
int dreamreel_cuda_device_name(int, char*, size_t, char* error, size_t error_len) {
  return unavailable(error, error_len);
}
}  // extern "C"
#endif
