// kvprobe: times KV-block-shaped copies from one GPU to another, as a disaggregated decode worker
// pulls a prefill worker's KV blocks (issue 9 §1, docs/kvprobe.md).
//
// Layout follows vLLM's per-layer caches: each layer has a K region and a V region of
// num_blocks × piece bytes (piece = block_size × kv_heads × head_dim × dtype bytes), so one block is
// 2 × layers pieces scattered over the cache. Block ids are a shuffled subset, as in a used cache.
//
// Two processes: the parent is the destination (decode side) and issues every copy; a forked child
// owns the source cache on the source GPU and exports it with cudaIpcGetMemHandle, as the prefill
// worker's memory is only reachable through IPC. Output: one JSON object (common/kv/kvprobe-result.ts)
// on stdout; progress lines "progress <fraction> <message>" and errors on stderr.

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifndef KVPROBE_SOURCE_HASH
#define KVPROBE_SOURCE_HASH "unknown"
#endif

namespace {

struct Options {
  int src = 0;
  int dst = 1;
  long layers = 32;
  long kvHeads = 8;
  long headDim = 128;
  long dtypeBytes = 2;
  long blockSize = 16;
  std::vector<long> blockCounts;
  std::vector<std::string> modes = {"per-piece", "gather", "contiguous", "host-staged"};
  int iterations = 50;
  int warmup = 5;
};

__global__ void fillPattern(uint32_t* p, size_t words, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < words; i += (size_t)gridDim.x * blockDim.x) {
    uint32_t x = (uint32_t)i * 2654435761u ^ seed;
    x ^= x >> 15;
    p[i] = x * 2246822519u;
  }
}

[[noreturn]] void die(const std::string& msg) {
  fprintf(stderr, "kvprobe: %s\n", msg.c_str());
  exit(1);
}

#define CK(call)                                                                                  \
  do {                                                                                            \
    cudaError_t err_ = (call);                                                                    \
    if (err_ != cudaSuccess) die(std::string(#call) + " failed: " + cudaGetErrorString(err_));  \
  } while (0)

void progress(double fraction, const std::string& msg) {
  fprintf(stderr, "progress %.4f %s\n", fraction, msg.c_str());
  fflush(stderr);
}

long parseLong(const char* name, const char* v, long lo, long hi) {
  char* end = nullptr;
  long x = strtol(v, &end, 10);
  if (!v[0] || *end || x < lo || x > hi) die(std::string("--") + name + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got \"" + v + "\"");
  return x;
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

void usage() {
  fprintf(stderr,
          "usage: kvprobe --src GPU --dst GPU --layers N --kv-heads N --head-dim N --dtype-bytes N --block-size N\n"
          "               [--blocks 1,16,188] [--modes per-piece,gather,contiguous,host-staged]\n"
          "               [--iterations 50] [--warmup 5]\n"
          "       kvprobe --version\n");
}

Options parseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--version") {
      printf("%s\n", KVPROBE_SOURCE_HASH);
      exit(0);
    }
    if (a == "--check") {
      // Proves this binary runs with the host's driver: a context and one kernel on the first GPU.
      int count = 0;
      cudaError_t e = cudaGetDeviceCount(&count);
      if (e == cudaSuccess && count == 0) e = cudaErrorNoDevice;
      uint32_t* p = nullptr;
      if (e == cudaSuccess) e = cudaMalloc(&p, 4096);
      if (e == cudaSuccess) {
        fillPattern<<<1, 32>>>(p, 1024, 1);
        e = cudaDeviceSynchronize();
      }
      if (e != cudaSuccess) {
        fprintf(stderr, "kvprobe: CUDA check failed: %s\n", cudaGetErrorString(e));
        exit(3);
      }
      int driver = 0, runtime = 0;
      cudaDriverGetVersion(&driver);
      cudaRuntimeGetVersion(&runtime);
      printf("ok driver %d runtime %d gpus %d\n", driver, runtime, count);
      exit(0);
    }
    if (a == "--help" || a == "-h") {
      usage();
      exit(0);
    }
    if (i + 1 >= argc) {
      usage();
      die("missing value after " + a);
    }
    const char* v = argv[++i];
    if (a == "--src") o.src = (int)parseLong("src", v, 0, 255);
    else if (a == "--dst") o.dst = (int)parseLong("dst", v, 0, 255);
    else if (a == "--layers") o.layers = parseLong("layers", v, 1, 1024);
    else if (a == "--kv-heads") o.kvHeads = parseLong("kv-heads", v, 1, 1024);
    else if (a == "--head-dim") o.headDim = parseLong("head-dim", v, 1, 4096);
    else if (a == "--dtype-bytes") o.dtypeBytes = parseLong("dtype-bytes", v, 1, 8);
    else if (a == "--block-size") o.blockSize = parseLong("block-size", v, 1, 4096);
    else if (a == "--iterations") o.iterations = (int)parseLong("iterations", v, 1, 100000);
    else if (a == "--warmup") o.warmup = (int)parseLong("warmup", v, 0, 100000);
    else if (a == "--blocks") {
      o.blockCounts.clear();
      for (auto& s : splitComma(v)) o.blockCounts.push_back(parseLong("blocks", s.c_str(), 1, 100000));
    } else if (a == "--modes") {
      o.modes = splitComma(v);
      for (auto& m : o.modes)
        if (m != "per-piece" && m != "gather" && m != "contiguous" && m != "host-staged") die("unknown mode \"" + m + "\" (per-piece, gather, contiguous, host-staged)");
    } else {
      usage();
      die("unknown argument " + a);
    }
  }
  if (o.blockCounts.empty()) {
    long prompt = (3000 + o.blockSize - 1) / o.blockSize;
    o.blockCounts = {1, 16, prompt};
  }
  std::sort(o.blockCounts.begin(), o.blockCounts.end());
  o.blockCounts.erase(std::unique(o.blockCounts.begin(), o.blockCounts.end()), o.blockCounts.end());
  if (o.modes.empty()) die("--modes is empty");
  return o;
}

// The cache geometry shared by both processes (both parse the same argv).
struct Geometry {
  size_t pieceBytes;   // one block's K (or V) of one layer
  size_t cacheBlocks;  // blocks per layer cache on each side
  size_t layerStride;  // bytes from one layer's cache to the next: K region then V region
  size_t totalBytes;   // whole cache on one side
  long pieces;         // pieces per block = 2 × layers
};

Geometry geometryOf(const Options& o) {
  Geometry g;
  g.pieceBytes = (size_t)o.blockSize * o.kvHeads * o.headDim * o.dtypeBytes;
  long maxBlocks = o.blockCounts.back();
  // Twice the largest transfer, so the shuffled ids are spread over a cache bigger than the transfer.
  g.cacheBlocks = (size_t)std::max<long>(2 * maxBlocks, 32);
  g.layerStride = 2 * g.cacheBlocks * g.pieceBytes;
  g.totalBytes = g.layerStride * o.layers;
  g.pieces = 2 * o.layers;
  return g;
}


// One CTA per piece: piece p of the transfer is block p / pieces, layer (p % pieces) / 2, K or V by
// parity. 16-byte loads, UNROLL loads in flight per thread before the stores, so enough requests
// are outstanding over the link to cover its latency.
constexpr int GATHER_THREADS = 512;
constexpr int UNROLL = 4;

__global__ void __launch_bounds__(GATHER_THREADS) gatherPieces(const char* __restrict__ src, char* __restrict__ dst, const int* __restrict__ srcIds,
                                                               const int* __restrict__ dstIds, long pieces, size_t pieceBytes, size_t cacheBlocks,
                                                               size_t layerStride) {
  long p = blockIdx.x;
  long b = p / pieces;
  long r = p % pieces;
  long layer = r >> 1;
  size_t kvOffset = (r & 1) ? cacheBlocks * pieceBytes : 0;
  const char* sp = src + layer * layerStride + kvOffset + (size_t)srcIds[b] * pieceBytes;
  char* dp = dst + layer * layerStride + kvOffset + (size_t)dstIds[b] * pieceBytes;
  if (pieceBytes % sizeof(int4) != 0) {
    // Odd shapes (e.g. fp8 with a tiny head dim): pieces are not 16-byte aligned, copy bytes.
    for (size_t i = threadIdx.x; i < pieceBytes; i += GATHER_THREADS) dp[i] = sp[i];
    return;
  }
  const int4* s = reinterpret_cast<const int4*>(sp);
  int4* d = reinterpret_cast<int4*>(dp);
  size_t n = pieceBytes / sizeof(int4);
  size_t i = threadIdx.x;
  for (; i + (UNROLL - 1) * GATHER_THREADS < n; i += UNROLL * GATHER_THREADS) {
    int4 v[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; u++) v[u] = __ldg(s + i + u * GATHER_THREADS);
#pragma unroll
    for (int u = 0; u < UNROLL; u++) d[i + u * GATHER_THREADS] = v[u];
  }
  for (; i < n; i += GATHER_THREADS) d[i] = __ldg(s + i);
}

// The source side: allocate, fill, export, then wait for the parent to finish.
int runSource(const Options& o, int toParent, int fromParent) {
  Geometry g = geometryOf(o);
  auto fail = [&](const std::string& msg) {
    std::string line = "ERR " + msg;
    line.resize(512, '\0');
    if (write(toParent, line.data(), line.size()) < 0) {}
    return 1;
  };
  if (cudaSetDevice(o.src) != cudaSuccess) return fail("cannot use source GPU " + std::to_string(o.src));
  void* buf = nullptr;
  cudaError_t e = cudaMalloc(&buf, g.totalBytes);
  if (e != cudaSuccess) return fail(std::string("cudaMalloc of the source cache (") + std::to_string(g.totalBytes >> 20) + " MiB) failed: " + cudaGetErrorString(e));
  fillPattern<<<1024, 256>>>(static_cast<uint32_t*>(buf), g.totalBytes / 4, 0x9e3779b9u);
  e = cudaDeviceSynchronize();
  if (e != cudaSuccess) return fail(std::string("filling the source cache failed: ") + cudaGetErrorString(e));
  cudaIpcMemHandle_t h;
  e = cudaIpcGetMemHandle(&h, buf);
  if (e != cudaSuccess) return fail(std::string("cudaIpcGetMemHandle failed: ") + cudaGetErrorString(e));
  std::string line = "OK  ";
  line.append(reinterpret_cast<const char*>(&h), sizeof(h));
  line.resize(512, '\0');
  if (write(toParent, line.data(), line.size()) != (ssize_t)line.size()) return 1;
  // Blocks until the parent writes or exits (EOF): the memory must outlive every copy.
  char c;
  if (read(fromParent, &c, 1) < 0) {}
  cudaFree(buf);
  return 0;
}

double percentile(std::vector<double> v, double q) {
  // Linear interpolation between closest ranks (numpy's default), as every Handoff percentile.
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  double pos = q * (v.size() - 1);
  size_t lo = (size_t)std::floor(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if ((unsigned char)c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  return out + "\"";
}

std::string isoNow() {
  time_t t = time(nullptr);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  return buf;
}

struct Measurement {
  std::string mode;
  long blocks;
  int iterations;
  double p50, p99, mean, gbPerS;
};

std::string deviceJson(int dev) {
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, dev));
  char bus[64] = {0};
  std::string busJson = "null";
  if (cudaDeviceGetPCIBusId(bus, sizeof bus, dev) == cudaSuccess) busJson = jsonString(bus);
  return "{\"index\":" + std::to_string(dev) + ",\"name\":" + jsonString(prop.name) + ",\"pciBusId\":" + busJson + "}";
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parseArgs(argc, argv);
  auto started = std::chrono::steady_clock::now();
  std::string startedAt = isoNow();
  Geometry g = geometryOf(o);

  // Fork before any CUDA call: a CUDA context does not survive fork.
  int up[2], down[2];
  if (pipe(up) != 0 || pipe(down) != 0) die("pipe failed");
  pid_t child = fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    close(up[0]);
    close(down[1]);
    _exit(runSource(o, up[1], down[0]));
  }
  close(up[1]);
  close(down[0]);
  auto finish = [&](int code) {
    if (write(down[1], "x", 1) < 0) {}
    close(down[1]);
    int status = 0;
    waitpid(child, &status, 0);
    return code;
  };

  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    finish(1);
    die("no CUDA device is visible (cudaGetDeviceCount failed or returned 0)");
  }
  if (o.src >= count || o.dst >= count) {
    finish(1);
    die("GPU " + std::to_string(std::max(o.src, o.dst)) + " does not exist; this host has " + std::to_string(count) + " GPU(s)");
  }

  char msg[512];
  size_t got = 0;
  while (got < sizeof msg) {
    ssize_t n = read(up[0], msg + got, sizeof msg - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  if (got != sizeof msg) {
    finish(1);
    die("the source process exited before exporting its memory");
  }
  if (strncmp(msg, "OK  ", 4) != 0) {
    finish(1);
    die(std::string("source process: ") + (msg + 4));
  }
  cudaIpcMemHandle_t handle;
  memcpy(&handle, msg + 4, sizeof handle);

  int canAccess = 0;
  if (o.src != o.dst) CK(cudaDeviceCanAccessPeer(&canAccess, o.dst, o.src));
  bool peer = o.src == o.dst || canAccess;

  CK(cudaSetDevice(o.dst));
  char* src = nullptr;
  // With peer access the handle maps straight into the destination GPU's address space.
  cudaError_t openErr = cudaIpcOpenMemHandle(reinterpret_cast<void**>(&src), handle, cudaIpcMemLazyEnablePeerAccess);
  if (openErr != cudaSuccess) {
    // Without peer access, open it in the source GPU's context; copies then go through the driver.
    cudaGetLastError();
    CK(cudaSetDevice(o.src));
    CK(cudaIpcOpenMemHandle(reinterpret_cast<void**>(&src), handle, cudaIpcMemLazyEnablePeerAccess));
    CK(cudaSetDevice(o.dst));
    peer = false;
  }

  char* dst = nullptr;
  CK(cudaMalloc(&dst, g.totalBytes));
  CK(cudaMemset(dst, 0, g.totalBytes));
  long maxBlocks = o.blockCounts.back();
  size_t maxBytes = (size_t)maxBlocks * g.pieces * g.pieceBytes;
  char* host = nullptr;
  CK(cudaHostAlloc(reinterpret_cast<void**>(&host), maxBytes, cudaHostAllocPortable));

  // Distinct shuffled block ids on each side, fixed seed so runs are comparable.
  std::vector<int> ids(g.cacheBlocks);
  for (size_t i = 0; i < ids.size(); i++) ids[i] = (int)i;
  std::mt19937 rng(12345);
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<int> srcIds(ids.begin(), ids.begin() + maxBlocks);
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<int> dstIds(ids.begin(), ids.begin() + maxBlocks);
  int *dSrcIds = nullptr, *dDstIds = nullptr;
  CK(cudaMalloc(&dSrcIds, maxBlocks * sizeof(int)));
  CK(cudaMalloc(&dDstIds, maxBlocks * sizeof(int)));
  CK(cudaMemcpy(dSrcIds, srcIds.data(), maxBlocks * sizeof(int), cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dDstIds, dstIds.data(), maxBlocks * sizeof(int), cudaMemcpyHostToDevice));

  cudaStream_t stream;
  CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cudaEvent_t t0, t1;
  CK(cudaEventCreate(&t0));
  CK(cudaEventCreate(&t1));

  auto pieceOffset = [&](int block, long r) { return (size_t)(r >> 1) * g.layerStride + ((r & 1) ? g.cacheBlocks * g.pieceBytes : 0) + (size_t)block * g.pieceBytes; };

  auto issue = [&](const std::string& mode, long n) {
    if (mode == "per-piece") {
      for (long b = 0; b < n; b++)
        for (long r = 0; r < g.pieces; r++)
          CK(cudaMemcpyPeerAsync(dst + pieceOffset(dstIds[b], r), o.dst, src + pieceOffset(srcIds[b], r), o.src, g.pieceBytes, stream));
    } else if (mode == "gather") {
      gatherPieces<<<(unsigned)(n * g.pieces), GATHER_THREADS, 0, stream>>>(src, dst, dSrcIds, dDstIds, g.pieces, g.pieceBytes, g.cacheBlocks, g.layerStride);
      CK(cudaGetLastError());
    } else if (mode == "contiguous") {
      CK(cudaMemcpyPeerAsync(dst, o.dst, src, o.src, (size_t)n * g.pieces * g.pieceBytes, stream));
    } else {
      // K pieces of one block sit one layer stride apart, as do V pieces: one 2D copy moves all of
      // them. Device → pinned host for every block, then pinned host → device.
      size_t blockBytes = g.pieces * g.pieceBytes;
      for (long b = 0; b < n; b++)
        for (int kv = 0; kv < 2; kv++)
          CK(cudaMemcpy2DAsync(host + b * blockBytes + kv * o.layers * g.pieceBytes, g.pieceBytes, src + pieceOffset(srcIds[b], kv), g.layerStride, g.pieceBytes,
                               o.layers, cudaMemcpyDeviceToHost, stream));
      for (long b = 0; b < n; b++)
        for (int kv = 0; kv < 2; kv++)
          CK(cudaMemcpy2DAsync(dst + pieceOffset(dstIds[b], kv), g.layerStride, host + b * blockBytes + kv * o.layers * g.pieceBytes, g.pieceBytes, g.pieceBytes,
                               o.layers, cudaMemcpyHostToDevice, stream));
    }
  };

  // After one transfer of n blocks, the destination must hold the source's bytes.
  auto verify = [&](const std::string& mode, long n) {
    std::vector<char> a(g.pieceBytes), b(g.pieceBytes);
    long samples[3] = {0, n / 2, n - 1};
    for (long blk : samples) {
      for (long r : {0L, g.pieces - 1}) {
        size_t so, doff;
        if (mode == "contiguous") {
          so = doff = ((size_t)blk * g.pieces + r) * g.pieceBytes;
        } else {
          so = pieceOffset(srcIds[blk], r);
          doff = pieceOffset(dstIds[blk], r);
        }
        CK(cudaMemcpy(a.data(), src + so, g.pieceBytes, cudaMemcpyDefault));
        CK(cudaMemcpy(b.data(), dst + doff, g.pieceBytes, cudaMemcpyDefault));
        if (memcmp(a.data(), b.data(), g.pieceBytes) != 0) {
          finish(1);
          die("mode " + mode + ": destination block " + std::to_string(blk) + " piece " + std::to_string(r) + " differs from the source after the copy");
        }
      }
    }
  };

  std::vector<Measurement> results;
  std::vector<std::string> skipped;
  std::vector<std::string> modes;
  for (auto& m : o.modes) {
    if (m == "gather" && !peer) {
      skipped.push_back("{\"mode\":\"gather\",\"reason\":" +
                        jsonString("GPU " + std::to_string(o.dst) + " cannot access GPU " + std::to_string(o.src) + "'s memory (no peer access), so a kernel cannot read it") + "}");
      continue;
    }
    modes.push_back(m);
  }
  size_t total = modes.size() * o.blockCounts.size(), done = 0;
  for (auto& mode : modes) {
    for (long n : o.blockCounts) {
      progress((double)done / total, mode + ", " + std::to_string(n) + " block" + (n == 1 ? "" : "s"));
      CK(cudaMemsetAsync(dst, 0, g.totalBytes, stream));
      issue(mode, n);
      CK(cudaStreamSynchronize(stream));
      verify(mode, n);
      for (int w = 0; w < o.warmup; w++) issue(mode, n);
      CK(cudaStreamSynchronize(stream));
      std::vector<double> us;
      us.reserve(o.iterations);
      for (int it = 0; it < o.iterations; it++) {
        CK(cudaEventRecord(t0, stream));
        issue(mode, n);
        CK(cudaEventRecord(t1, stream));
        CK(cudaEventSynchronize(t1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, t0, t1));
        us.push_back(ms * 1000.0);
      }
      std::vector<double> perBlock(us.size());
      double sum = 0;
      for (size_t i = 0; i < us.size(); i++) perBlock[i] = us[i] / n, sum += perBlock[i];
      double medianUs = percentile(us, 0.5);
      double bytes = (double)n * g.pieces * g.pieceBytes;
      results.push_back({mode, n, o.iterations, percentile(perBlock, 0.5), percentile(perBlock, 0.99), sum / perBlock.size(), medianUs > 0 ? bytes / (medianUs * 1e3) : 0});
      done++;
    }
  }
  progress(1, "done");

  double durationMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::string out = "{\"schema\":1,\"implementation\":\"native\",\"producerVersion\":" + jsonString(KVPROBE_SOURCE_HASH);
  out += ",\"src\":" + deviceJson(o.src) + ",\"dst\":" + deviceJson(o.dst);
  out += std::string(",\"peerAccess\":") + (peer ? "true" : "false") + ",\"crossProcess\":true";
  out += ",\"shape\":{\"layers\":" + std::to_string(o.layers) + ",\"kvHeadsPerRank\":" + std::to_string(o.kvHeads) + ",\"headDim\":" + std::to_string(o.headDim) +
         ",\"dtypeBytes\":" + std::to_string(o.dtypeBytes) + ",\"blockSize\":" + std::to_string(o.blockSize) +
         ",\"bytesPerBlock\":" + std::to_string(g.pieces * g.pieceBytes) + ",\"piecesPerBlock\":" + std::to_string(g.pieces) + "}";
  out += ",\"blockCounts\":[";
  for (size_t i = 0; i < o.blockCounts.size(); i++) out += (i ? "," : "") + std::to_string(o.blockCounts[i]);
  out += "],\"measurements\":[";
  char num[512];
  for (size_t i = 0; i < results.size(); i++) {
    auto& r = results[i];
    snprintf(num, sizeof num, "%s{\"mode\":\"%s\",\"blocks\":%ld,\"iterations\":%d,\"perBlockUs\":{\"p50\":%.4f,\"p99\":%.4f,\"mean\":%.4f},\"gbPerS\":%.4f}", i ? "," : "",
             r.mode.c_str(), r.blocks, r.iterations, r.p50, r.p99, r.mean, r.gbPerS);
    out += num;
  }
  out += "],\"skipped\":[";
  for (size_t i = 0; i < skipped.size(); i++) out += (i ? "," : "") + skipped[i];
  snprintf(num, sizeof num, "%.3f", durationMs);
  out += "],\"startedAt\":" + jsonString(startedAt) + ",\"durationMs\":" + num + "}";
  printf("%s\n", out.c_str());
  fflush(stdout);

  cudaIpcCloseMemHandle(src);
  cudaFree(dst);
  cudaFreeHost(host);
  return finish(0);
}
