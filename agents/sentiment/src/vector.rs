//! The float vector work of the forward pass, four lanes at a time.
//!
//! Why: the host canonicalises every float result (so that NaN bits, and
//! with them replays, are the same on every machine), which roughly
//! triples the cost of each scalar float operation; one SIMD operation
//! pays that once for four lanes. Measured in the sandbox: the scalar
//! forward pass spent more time on attention, LayerNorm and quantization
//! than on the int8 products.
//!
//! Each function has a portable version that does the same operations in
//! the same order (lane `k` takes elements `k, k+4, …`; the lanes are then
//! added as `(l0 + l1) + (l2 + l3)`), so native tests see the wasm bits.
//! Lengths are multiples of 4.

#[cfg(target_arch = "wasm32")]
use core::arch::wasm32::*;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
fn load(c: &[f32]) -> v128 {
    assert!(c.len() >= 4);
    // SAFETY: four f32 in bounds (asserted); no alignment needed.
    unsafe { v128_load(c.as_ptr().cast()) }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
fn store(c: &mut [f32], v: v128) {
    assert!(c.len() >= 4);
    // SAFETY: as `load`.
    unsafe { v128_store(c.as_mut_ptr().cast(), v) }
}

#[cfg(target_arch = "wasm32")]
fn lanes(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v))
        + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}

/// `Σ a[i]·b[i]`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert!(a.len() == b.len() && a.len().is_multiple_of(4));
    #[cfg(target_arch = "wasm32")]
    {
        let mut acc = f32x4_splat(0.0);
        for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
            acc = f32x4_add(acc, f32x4_mul(load(x), load(y)));
        }
        lanes(acc)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut acc = [0f32; 4];
        for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
            for k in 0..4 {
                acc[k] += x[k] * y[k];
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }
}

/// `Σ a[i]`.
pub fn sum(a: &[f32]) -> f32 {
    #[cfg(target_arch = "wasm32")]
    {
        let mut acc = f32x4_splat(0.0);
        for x in a.chunks_exact(4) {
            acc = f32x4_add(acc, load(x));
        }
        lanes(acc)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut acc = [0f32; 4];
        for x in a.chunks_exact(4) {
            for k in 0..4 {
                acc[k] += x[k];
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }
}

/// `Σ (a[i] − m)²`.
pub fn sum_sq_dev(a: &[f32], m: f32) -> f32 {
    #[cfg(target_arch = "wasm32")]
    {
        let (mut acc, mv) = (f32x4_splat(0.0), f32x4_splat(m));
        for x in a.chunks_exact(4) {
            let d = f32x4_sub(load(x), mv);
            acc = f32x4_add(acc, f32x4_mul(d, d));
        }
        lanes(acc)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut acc = [0f32; 4];
        for x in a.chunks_exact(4) {
            for k in 0..4 {
                let d = x[k] - m;
                acc[k] += d * d;
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }
}

/// `y[i] += alpha · x[i]`.
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    #[cfg(target_arch = "wasm32")]
    {
        let a = f32x4_splat(alpha);
        for (yc, xc) in y.chunks_exact_mut(4).zip(x.chunks_exact(4)) {
            let v = f32x4_add(load(yc), f32x4_mul(a, load(xc)));
            store(yc, v);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `y[i] += x[i]`.
pub fn add(y: &mut [f32], x: &[f32]) {
    #[cfg(target_arch = "wasm32")]
    for (yc, xc) in y.chunks_exact_mut(4).zip(x.chunks_exact(4)) {
        let v = f32x4_add(load(yc), load(xc));
        store(yc, v);
    }
    #[cfg(not(target_arch = "wasm32"))]
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += xi;
    }
}

/// LayerNorm's last step: `x[i] = (x[i] − m) / sd · g[i] + b[i]`.
pub fn normalize(x: &mut [f32], m: f32, sd: f32, g: &[f32], b: &[f32]) {
    #[cfg(target_arch = "wasm32")]
    {
        let (mv, sv) = (f32x4_splat(m), f32x4_splat(sd));
        for ((xc, gc), bc) in x
            .chunks_exact_mut(4)
            .zip(g.chunks_exact(4))
            .zip(b.chunks_exact(4))
        {
            let v = f32x4_div(f32x4_sub(load(xc), mv), sv);
            store(xc, f32x4_add(f32x4_mul(v, load(gc)), load(bc)));
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    for ((xi, gi), bi) in x.iter_mut().zip(g).zip(b) {
        *xi = (*xi - m) / sd * gi + bi;
    }
}

/// A linear layer's output from its `i32` sums: `y[i] = acc[i] · (s · w[i]) + b[i]`.
pub fn dequantize(y: &mut [f32], acc: &[i32], s: f32, w: &[f32], b: &[f32]) {
    #[cfg(target_arch = "wasm32")]
    #[allow(unsafe_code)]
    {
        let sv = f32x4_splat(s);
        for (((yc, ac), wc), bc) in y
            .chunks_exact_mut(4)
            .zip(acc.chunks_exact(4))
            .zip(w.chunks_exact(4))
            .zip(b.chunks_exact(4))
        {
            // SAFETY: four i32 in bounds (chunks_exact).
            let a = f32x4_convert_i32x4(unsafe { v128_load(ac.as_ptr().cast()) });
            store(
                yc,
                f32x4_add(f32x4_mul(a, f32x4_mul(sv, load(wc))), load(bc)),
            );
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    for (((yi, &a), &wi), &bi) in y.iter_mut().zip(acc).zip(w).zip(b) {
        *yi = a as f32 * (s * wi) + bi;
    }
}

/// Symmetric int8 of `x` into `q` (`round(x / s)`, ties to even, with
/// `s = max|x| / 127`); returns `s`.
pub fn quantize(x: &[f32], q: &mut [i8]) -> f32 {
    // The largest magnitude from the bits (no float operation): for
    // finite floats, magnitude order is the order of the bits without sign.
    let bits = x.iter().fold(0u32, |m, v| m.max(v.to_bits() & 0x7fff_ffff));
    let m = f32::from_bits(bits);
    let s = if m > 0.0 { m / 127.0 } else { 1.0 };
    #[cfg(target_arch = "wasm32")]
    {
        let sv = f32x4_splat(s);
        for (xc, qc) in x.chunks_exact(4).zip(q.chunks_exact_mut(4)) {
            let r = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_div(load(xc), sv)));
            for (k, qk) in qc.iter_mut().enumerate() {
                *qk = lane_i8(r, k);
            }
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    for (qi, v) in q.iter_mut().zip(x) {
        *qi = ((v / s).round_ties_even() as i32).clamp(-127, 127) as i8;
    }
    s
}

#[cfg(target_arch = "wasm32")]
fn lane_i8(r: v128, k: usize) -> i8 {
    let v = match k {
        0 => i32x4_extract_lane::<0>(r),
        1 => i32x4_extract_lane::<1>(r),
        2 => i32x4_extract_lane::<2>(r),
        _ => i32x4_extract_lane::<3>(r),
    };
    v.clamp(-127, 127) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_summed_in_the_documented_order() {
        let a: Vec<f32> = (1..=8).map(|i| i as f32).collect();
        assert_eq!(dot(&a, &[1.0; 8]), 36.0);
        assert_eq!(sum(&a), 36.0);
        assert_eq!(sum_sq_dev(&a, 4.5), 42.0);
        // (1e8 + 1) + (−1e8 + 1) is 0 in f32; left to right it would be 1.
        assert_eq!(sum(&[1e8, 1.0, -1e8, 1.0]), 0.0);
    }

    #[test]
    fn quantize_rounds_ties_to_even_and_scales_by_the_largest_magnitude() {
        let mut q = [0i8; 4];
        let s = quantize(&[-254.0, 1.0, 3.0, 127.0], &mut q);
        assert_eq!(s, 2.0);
        assert_eq!(q, [-127, 0, 2, 64]);
        assert_eq!(quantize(&[0.0; 4], &mut q), 1.0);
        assert_eq!(q, [0; 4]);
    }

    #[test]
    fn dequantize_and_normalize_are_elementwise() {
        let mut y = [0f32; 4];
        dequantize(
            &mut y,
            &[1, -2, 3, 0],
            0.5,
            &[2.0; 4],
            &[1.0, 1.0, 1.0, 0.5],
        );
        assert_eq!(y, [2.0, -1.0, 4.0, 0.5]);
        normalize(&mut y, 1.0, 2.0, &[2.0; 4], &[0.0; 4]);
        assert_eq!(y, [1.0, -2.0, 3.0, -0.5]);
        axpy(&mut y, 2.0, &[1.0; 4]);
        add(&mut y, &[1.0; 4]);
        assert_eq!(y, [4.0, 1.0, 6.0, 2.5]);
    }
}
