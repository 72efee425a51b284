// Copyright (c) mmcenternet contributors. All rights reserved.
//
// Fused sampling and gather of the fast modulated deformable convolution, CPU, inference only.
//
// For output pixel p and sampling point t the tensor implementation builds a table of four
// bilinear corners (row index of the tap projection and weight) in about 35 element-wise passes
// and then gathers with embedding_bag. This kernel computes each point's corners where they are
// consumed: one pass over the offsets, the rows of the projection read once per corner, the sums
// kept in float32, the bias added at the end (and, on request, the mask's sigmoid and a ReLU
// applied on the way). The contribution rule and weights are those of
// `_table` in modulated_deform_conv.py (mmcv's rule): a point contributes only inside
// (-1, H) x (-1, W), and only through its in-map corners; NaN or infinite positions contribute
// nothing.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <torch/library.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

inline float load(const float* row, int64_t i) { return row[i]; }

inline float load(const c10::BFloat16* row, int64_t i) {
  // bfloat16 is the upper half of a float32 (generic path; see the AVX-512 block below)
  uint16_t bits;
  std::memcpy(&bits, row + i, sizeof(bits));
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

inline void store(float* out, int64_t i, float v) { out[i] = v; }

inline void store(c10::BFloat16* out, int64_t i, float v) { out[i] = c10::BFloat16(v); }

// One axis of a sampling point: near corner `low`, far corner `low + 1`, their weights (0 where
// the corner does not contribute).
struct Axis {
  int64_t low;
  float w_near, w_far;
};

inline bool axis_of(float pos, int64_t size, Axis* a) {
  if (!std::isfinite(pos)) return false;
  const float low = std::floor(pos);
  const float frac = pos - low;
  const bool near_in = low >= 0.f && low <= static_cast<float>(size - 1);
  const bool far_in = pos > -1.f && low < static_cast<float>(size - 1);
  if (!near_in && !far_in) return false;
  a->low = static_cast<int64_t>(low);
  a->w_near = near_in ? 1.f - frac : 0.f;
  a->w_far = far_in ? frac : 0.f;
  return true;
}

// Channels per block: the block's sums stay in vector registers while every corner of the pixel
// is added (64 float32 = four 512-bit or eight 256-bit registers).
constexpr int64_t kBlock = 64;

// A ReLU that keeps NaN, as torch's.
inline float rectify(float v, bool relu) { return relu && v < 0.f ? 0.f : v; }

// out[0:width] = bias + sum_j weight[j] * row[j][0:width] with `width` <= kBlock (rectified if
// `relu`); `Width` is kBlock for full blocks (a constant trip count, unrolled into registers) or
// 0 for the tail.
template <int64_t Width, typename scalar_t>
inline void weighted_rows(const scalar_t* rows, int64_t channels, const int32_t* index,
                          const float* weight, int64_t count, int64_t offset, int64_t width,
                          const float* bias, bool relu, scalar_t* out) {
  const int64_t w = Width ? Width : width;
  float acc[kBlock];
  for (int64_t o = 0; o < w; ++o) acc[o] = bias[o];
  for (int64_t j = 0; j < count; ++j) {
    const scalar_t* __restrict__ r = rows + index[j] * channels + offset;
    const float wj = weight[j];
#pragma omp simd
    for (int64_t o = 0; o < w; ++o) acc[o] += wj * load(r, o);
  }
  for (int64_t o = 0; o < w; ++o) store(out, o, rectify(acc[o], relu));
}

#if defined(__AVX512F__)
// bfloat16 rows, full blocks: explicit AVX-512 (the compiler does not vectorise the widening
// load of a bfloat16 well); each 16-value piece is widened by a zero-extension and a shift.
template <>
inline void weighted_rows<kBlock, c10::BFloat16>(const c10::BFloat16* rows, int64_t channels,
                                                 const int32_t* index, const float* weight,
                                                 int64_t count, int64_t offset, int64_t,
                                                 const float* bias, bool relu,
                                                 c10::BFloat16* out) {
  static_assert(kBlock == 64, "four 16-lane registers per block");
  __m512 acc[4];
  for (int k = 0; k < 4; ++k) acc[k] = _mm512_loadu_ps(bias + 16 * k);
  for (int64_t j = 0; j < count; ++j) {
    const c10::BFloat16* r = rows + index[j] * channels + offset;
    const __m512 w = _mm512_set1_ps(weight[j]);
    for (int k = 0; k < 4; ++k) {
      const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + 16 * k));
      const __m512 value = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
      acc[k] = _mm512_fmadd_ps(w, value, acc[k]);
    }
  }
  float sums[kBlock];
  for (int k = 0; k < 4; ++k) _mm512_storeu_ps(sums + 16 * k, acc[k]);
  for (int64_t o = 0; o < kBlock; ++o) {
    out[o] = c10::BFloat16(rectify(sums[o], relu));  // rounded to nearest even
  }
}
#endif

// The corners of one output pixel's sampling points: rows of the projection and weights.

struct Corners {
  std::vector<int32_t> index;  // rows of the projection
  std::vector<float> weight;
  int64_t count = 0;
};

template <typename scalar_t>
void gather_kernel(const at::Tensor& proj, const at::Tensor& offset, const at::Tensor& mask,
                   const c10::optional<at::Tensor>& bias, at::Tensor& out, int64_t height,
                   int64_t width, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                   int64_t pw, int64_t dh, int64_t dw, int64_t taps, bool relu,
                   bool mask_logits, bool generic) {
  const int64_t n = offset.size(0), ho = offset.size(2), wo = offset.size(3);
  const int64_t channels = proj.size(1);
  const float* off = offset.data_ptr<float>();
  const float* msk = mask.data_ptr<float>();
  const int64_t off_n = offset.stride(0), off_c = offset.stride(1), off_y = offset.stride(2),
                off_x = offset.stride(3);
  const int64_t msk_n = mask.stride(0), msk_c = mask.stride(1), msk_y = mask.stride(2),
                msk_x = mask.stride(3);
  const scalar_t* rows = proj.data_ptr<scalar_t>();
  scalar_t* dst = out.data_ptr<scalar_t>();
  std::vector<float> bias_f(channels, 0.f);
  if (bias.has_value() && bias->defined()) {
    const at::Tensor b = bias->to(at::kFloat).contiguous();
    std::memcpy(bias_f.data(), b.data_ptr<float>(), channels * sizeof(float));
  }
  // kernel position of every sampling point (deformable groups repeat the kernel's taps)
  std::vector<int64_t> tap_y(taps), tap_x(taps);
  for (int64_t t = 0; t < taps; ++t) {
    tap_y[t] = (t % (kh * kw)) / kw * dh;
    tap_x[t] = (t % (kh * kw)) % kw * dw;
  }
  const int64_t row_bytes = channels * static_cast<int64_t>(sizeof(scalar_t));
  const int64_t pixels = n * ho * wo;
  const int64_t full = channels / kBlock * kBlock;

  auto corners_of = [&](int64_t p, Corners* c) {
    const int64_t b = p / (ho * wo), y = (p / wo) % ho, x = p % wo;
    const float* o = off + b * off_n + y * off_y + x * off_x;
    const float* m = msk + b * msk_n + y * msk_y + x * msk_x;
    const int64_t base_y = y * sh - ph, base_x = x * sw - pw;
    c->count = 0;
    for (int64_t t = 0; t < taps; ++t) {
      Axis ay, ax;
      if (!axis_of(o[2 * t * off_c] + static_cast<float>(base_y + tap_y[t]), height, &ay)) continue;
      if (!axis_of(o[(2 * t + 1) * off_c] + static_cast<float>(base_x + tap_x[t]), width, &ax)) {
        continue;
      }
      const float raw = m[t * msk_c];
      const float mt = mask_logits ? 1.f / (1.f + std::exp(-raw)) : raw;
      const float wy[2] = {ay.w_near * mt, ay.w_far * mt};
      const float wx[2] = {ax.w_near, ax.w_far};
      // row ((b * H + y) * W + x) * T + t of the projection (tap_projection's order)
      const int64_t first = ((b * height + ay.low) * width + ax.low) * taps + t;
      for (int cy = 0; cy < 2; ++cy) {
        for (int cx = 0; cx < 2; ++cx) {
          const float w = wy[cy] * wx[cx];
          if (w == 0.f) continue;  // every corner outside the map has weight 0
          c->index[c->count] = static_cast<int32_t>(first + (cy * width + cx) * taps);
          c->weight[c->count++] = w;
        }
      }
    }
  };
#if defined(__AVX512F__)
  // The same, 16 sampling points at a time: positions, tests and weights in vector registers,
  // the contributing corners written with compress-stores. Same operations in the same order,
  // so the same weights; corners come corner-major within each group of 16 points.
  const int64_t padded = (taps + 15) / 16 * 16;
  std::vector<float> tap_yf(padded, 0.f), tap_xf(padded, 0.f);
  std::vector<int32_t> at_y(padded, 0), at_x(padded, 0), at_m(padded, 0), tap_id(padded, 0);
  for (int64_t t = 0; t < taps; ++t) {
    tap_yf[t] = static_cast<float>(tap_y[t]);
    tap_xf[t] = static_cast<float>(tap_x[t]);
    at_y[t] = static_cast<int32_t>(2 * t * off_c);
    at_x[t] = static_cast<int32_t>((2 * t + 1) * off_c);
    at_m[t] = static_cast<int32_t>(t * msk_c);
    tap_id[t] = static_cast<int32_t>(t);
  }
  auto corners_avx512 = [&](int64_t p, Corners* c) {
    const int64_t b = p / (ho * wo), y = (p / wo) % ho, x = p % wo;
    const float* o = off + b * off_n + y * off_y + x * off_x;
    const float* m = msk + b * msk_n + y * msk_y + x * msk_x;
    const __m512 base_y = _mm512_set1_ps(static_cast<float>(y * sh - ph));
    const __m512 base_x = _mm512_set1_ps(static_cast<float>(x * sw - pw));
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f),
                 minus_one = _mm512_set1_ps(-1.f);
    const __m512 h_f = _mm512_set1_ps(static_cast<float>(height)),
                 w_f = _mm512_set1_ps(static_cast<float>(width));
    const __m512 h_last = _mm512_set1_ps(static_cast<float>(height - 1)),
                 w_last = _mm512_set1_ps(static_cast<float>(width - 1));
    const __m512i v_taps = _mm512_set1_epi32(static_cast<int32_t>(taps));
    const __m512i v_width = _mm512_set1_epi32(static_cast<int32_t>(width));
    const __m512i v_down = _mm512_set1_epi32(static_cast<int32_t>(width * taps));
    const __m512i v_image = _mm512_set1_epi32(static_cast<int32_t>(b * height * width * taps));
    c->count = 0;
    for (int64_t t0 = 0; t0 < taps; t0 += 16) {
      const int64_t lanes = taps - t0 < 16 ? taps - t0 : 16;
      const __mmask16 live = static_cast<__mmask16>((1u << lanes) - 1u);
      const __m512 dy = _mm512_mask_i32gather_ps(
          zero, live, _mm512_loadu_si512(at_y.data() + t0), o, 4);
      const __m512 dx = _mm512_mask_i32gather_ps(
          zero, live, _mm512_loadu_si512(at_x.data() + t0), o, 4);
      __m512 mt = _mm512_mask_i32gather_ps(zero, live, _mm512_loadu_si512(at_m.data() + t0), m, 4);
      const __m512 py = _mm512_add_ps(dy, _mm512_add_ps(base_y, _mm512_loadu_ps(tap_yf.data() + t0)));
      const __m512 px = _mm512_add_ps(dx, _mm512_add_ps(base_x, _mm512_loadu_ps(tap_xf.data() + t0)));
      // inside (-1, H) x (-1, W); ordered comparisons: NaN and infinities fail
      const __mmask16 valid = live & _mm512_cmp_ps_mask(py, minus_one, _CMP_GT_OQ) &
                              _mm512_cmp_ps_mask(py, h_f, _CMP_LT_OQ) &
                              _mm512_cmp_ps_mask(px, minus_one, _CMP_GT_OQ) &
                              _mm512_cmp_ps_mask(px, w_f, _CMP_LT_OQ);
      if (!valid) continue;
      if (mask_logits) {
        alignas(64) float raw[16];
        _mm512_store_ps(raw, mt);
        for (int64_t i = 0; i < lanes; ++i) raw[i] = 1.f / (1.f + std::exp(-raw[i]));
        mt = _mm512_load_ps(raw);
      }
      const __m512 low_y = _mm512_roundscale_ps(py, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
      const __m512 low_x = _mm512_roundscale_ps(px, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
      const __m512 fy = _mm512_sub_ps(py, low_y), fx = _mm512_sub_ps(px, low_x);
      // inside the point's range the near corner is in the map where low >= 0, the far one
      // where low < size - 1
      const __m512 wy0 = _mm512_mul_ps(
          _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(low_y, zero, _CMP_GE_OQ), _mm512_sub_ps(one, fy)), mt);
      const __m512 wy1 = _mm512_mul_ps(
          _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(low_y, h_last, _CMP_LT_OQ), fy), mt);
      const __m512 wx0 =
          _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(low_x, zero, _CMP_GE_OQ), _mm512_sub_ps(one, fx));
      const __m512 wx1 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(low_x, w_last, _CMP_LT_OQ), fx);
      const __m512i iy = _mm512_cvttps_epi32(low_y), ix = _mm512_cvttps_epi32(low_x);
      const __m512i first = _mm512_add_epi32(
          _mm512_mullo_epi32(_mm512_add_epi32(_mm512_mullo_epi32(iy, v_width), ix), v_taps),
          _mm512_add_epi32(v_image, _mm512_loadu_si512(tap_id.data() + t0)));
      const __m512 w4[4] = {_mm512_mul_ps(wy0, wx0), _mm512_mul_ps(wy0, wx1),
                            _mm512_mul_ps(wy1, wx0), _mm512_mul_ps(wy1, wx1)};
      const __m512i r4[4] = {first, _mm512_add_epi32(first, v_taps),
                             _mm512_add_epi32(first, v_down),
                             _mm512_add_epi32(_mm512_add_epi32(first, v_down), v_taps)};
      for (int k = 0; k < 4; ++k) {
        const __mmask16 keep = valid & _mm512_cmp_ps_mask(w4[k], zero, _CMP_NEQ_OQ);
        _mm512_mask_compressstoreu_ps(c->weight.data() + c->count, keep, w4[k]);
        _mm512_mask_compressstoreu_epi32(c->index.data() + c->count, keep, r4[k]);
        c->count += __builtin_popcount(keep);
      }
    }
  };
#endif

  at::parallel_for(0, pixels, 16, [&](int64_t begin, int64_t end) {
    // two pixels in flight: the rows of the next one are requested from memory while the
    // current one is summed
    Corners buf[2];
    for (auto& c : buf) {
      c.index.resize(4 * taps + 16);  // + 16: compress-stores of a last partial group
      c.weight.resize(4 * taps + 16);
    }
    auto corners = [&](int64_t p, Corners* c) {
#if defined(__AVX512F__)
      if (!generic) return corners_avx512(p, c);
#endif
      corners_of(p, c);
    };
    corners(begin, &buf[0]);
    for (int64_t p = begin; p < end; ++p) {
      Corners& cur = buf[(p - begin) & 1];
      if (p + 1 < end) {
        Corners& next = buf[(p + 1 - begin) & 1];
        corners(p + 1, &next);
        for (int64_t j = 0; j < next.count; ++j) {
          const char* r = reinterpret_cast<const char*>(rows + next.index[j] * channels);
          for (int64_t byte = 0; byte < row_bytes; byte += 64) __builtin_prefetch(r + byte);
        }
      }
      scalar_t* o = dst + p * channels;
      for (int64_t c = 0; c < full; c += kBlock) {
        weighted_rows<kBlock>(rows, channels, cur.index.data(), cur.weight.data(), cur.count, c,
                              kBlock, bias_f.data() + c, relu, o + c);
      }
      if (full < channels) {
        weighted_rows<0>(rows, channels, cur.index.data(), cur.weight.data(), cur.count, full,
                         channels - full, bias_f.data() + full, relu, o + full);
      }
    }
  });
}

at::Tensor deform_gather(const at::Tensor& proj, const at::Tensor& offset, const at::Tensor& mask,
                         const c10::optional<at::Tensor>& bias, int64_t height, int64_t width,
                         int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                         int64_t dh, int64_t dw, int64_t deform_groups, bool relu,
                         bool mask_logits) {
  TORCH_CHECK(proj.device().is_cpu() && offset.device().is_cpu() && mask.device().is_cpu(),
              "deform_gather: CPU tensors only");
  TORCH_CHECK(proj.dim() == 2 && proj.is_contiguous(), "deform_gather: proj must be a contiguous "
              "(N*H*W*T, O) matrix");
  TORCH_CHECK(offset.dim() == 4 && mask.dim() == 4, "deform_gather: 4-d offset and mask expected");
  TORCH_CHECK(offset.scalar_type() == at::kFloat && mask.scalar_type() == at::kFloat,
              "deform_gather: float32 offset and mask expected");
  const int64_t taps = deform_groups * kh * kw;
  const int64_t n = offset.size(0), ho = offset.size(2), wo = offset.size(3);
  TORCH_CHECK(offset.size(1) == 2 * taps && mask.size(1) == taps && mask.size(0) == n &&
                  mask.size(2) == ho && mask.size(3) == wo,
              "deform_gather: offset / mask shapes do not match the sampling points");
  TORCH_CHECK(proj.size(0) < (int64_t{1} << 31) && offset.stride(1) * 2 * taps < (int64_t{1} << 31) &&
                  mask.stride(1) * taps < (int64_t{1} << 31),
              "deform_gather: more than 2^31 projection rows or offset / mask elements per pixel");
  TORCH_CHECK(proj.size(0) == n * height * width * taps,
              "deform_gather: proj has ", proj.size(0), " rows, expected ",
              n * height * width * taps);
  at::Tensor out = at::empty({n * ho * wo, proj.size(1)}, proj.options());
  // the scalar corner computation everywhere (tests compare it with the vector one)
  const char* flag = std::getenv("MMCENTERNET_DEFORM_GATHER_GENERIC");
  const bool generic = flag != nullptr && flag[0] == '1';
  if (proj.scalar_type() == at::kFloat) {
    gather_kernel<float>(proj, offset, mask, bias, out, height, width, kh, kw, sh, sw, ph, pw, dh,
                         dw, taps, relu, mask_logits, generic);
  } else if (proj.scalar_type() == at::kBFloat16) {
    gather_kernel<c10::BFloat16>(proj, offset, mask, bias, out, height, width, kh, kw, sh, sw, ph,
                                 pw, dh, dw, taps, relu, mask_logits, generic);
  } else {
    TORCH_CHECK(false, "deform_gather: proj must be float32 or bfloat16, got ",
                proj.scalar_type());
  }
  return out;
}

}  // namespace

TORCH_LIBRARY(mmcenternet, m) {
  m.def("deform_gather(Tensor proj, Tensor offset, Tensor mask, Tensor? bias, int height, "
        "int width, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, "
        "int deform_groups, bool relu, bool mask_logits) -> Tensor");
}

TORCH_LIBRARY_IMPL(mmcenternet, CPU, m) { m.impl("deform_gather", &deform_gather); }
