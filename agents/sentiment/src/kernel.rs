//! The int8 products every linear layer is made of: `i32` sums of
//! `i8 × i8` products, exact, so the SIMD and the portable versions give
//! the same bits.
//!
//! On `wasm32` the products use SIMD128: sixteen `i8` are widened to two
//! `i16x8` and multiplied pairwise into `i32x4` (`i32x4.dot_i16x8_s`, one
//! instruction on x86). Two tokens and four weight rows are done at once,
//! so each widened weight serves two tokens and each widened input four
//! rows. Measured in the sandbox with fuel on, one token against four
//! rows did about 16 G multiply-adds a second; the scalar loop about 1 G.
//! Relaxed SIMD's `i8` dot product would be faster, but the host pins
//! relaxed SIMD to its deterministic lowering, which is slower.

/// `out[t·rows + r] = Σ_i x[t·n + i] · w[r·n + i]` for each token `t` of
/// `x` and row `r` of `w`: `x` is `tokens × n`, `w` is `rows × n`, `n` is
/// a multiple of 16 and `rows` of 4.
pub fn matmul(x: &[i8], w: &[i8], n: usize, out: &mut [i32]) {
    assert!(
        n > 0 && n.is_multiple_of(16) && x.len().is_multiple_of(n) && w.len().is_multiple_of(4 * n)
    );
    let (tokens, rows) = (x.len() / n, w.len() / n);
    assert_eq!(out.len(), tokens * rows);
    #[cfg(target_arch = "wasm32")]
    #[allow(unsafe_code)]
    // SAFETY: the shapes are asserted above; SIMD128 is part of every
    // engine Floor runs on (wasmtime enables it by default).
    unsafe {
        simd::matmul(x, w, n, rows, out);
    }
    #[cfg(not(target_arch = "wasm32"))]
    scalar(x, w, n, rows, out);
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
fn scalar(x: &[i8], w: &[i8], n: usize, rows: usize, out: &mut [i32]) {
    for (xt, ot) in x.chunks_exact(n).zip(out.chunks_exact_mut(rows)) {
        for (wr, o) in w.chunks_exact(n).zip(ot) {
            *o = xt
                .iter()
                .zip(wr)
                .map(|(&a, &b)| i32::from(a) * i32::from(b))
                .sum();
        }
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // raw SIMD loads; shapes asserted by `matmul`
mod simd {
    use core::arch::wasm32::*;

    /// Sixteen products of `x` and `w` at `i`, summed into four lanes.
    #[inline(always)]
    fn madd(xl: v128, xh: v128, wl: v128, wh: v128) -> v128 {
        i32x4_add(i32x4_dot_i16x8(xl, wl), i32x4_dot_i16x8(xh, wh))
    }

    #[inline(always)]
    fn widen(v: v128) -> (v128, v128) {
        (i16x8_extend_low_i8x16(v), i16x8_extend_high_i8x16(v))
    }

    #[inline(always)]
    fn sum(a: v128) -> i32 {
        i32x4_extract_lane::<0>(a)
            .wrapping_add(i32x4_extract_lane::<1>(a))
            .wrapping_add(i32x4_extract_lane::<2>(a))
            .wrapping_add(i32x4_extract_lane::<3>(a))
    }

    #[target_feature(enable = "simd128")]
    #[allow(clippy::needless_range_loop)] // k indexes both tokens' accumulators
    pub unsafe fn matmul(x: &[i8], w: &[i8], n: usize, rows: usize, out: &mut [i32]) {
        let tokens = x.len() / n;
        let (xp, wp) = (x.as_ptr(), w.as_ptr());
        // SAFETY (every load): t < tokens, r < rows and i + 16 ≤ n, so
        // each 16-byte load lies inside `x` or `w`; v128_load has no
        // alignment requirement.
        let load = |p: *const i8, at: usize| unsafe { v128_load(p.add(at).cast()) };
        // Rows outside, tokens inside: a block of four weight rows (6 KiB
        // at most) stays in L1 while every token passes over it, so each
        // weight comes from memory once a headline, not once a token.
        let mut r = 0;
        while r < rows {
            let mut t = 0;
            while t < tokens {
                let pair = t + 1 < tokens;
                let t1 = if pair { t + 1 } else { t };
                let mut a = [[i32x4_splat(0); 4]; 2];
                let mut i = 0;
                while i < n {
                    let (x0l, x0h) = widen(load(xp, t * n + i));
                    let (x1l, x1h) = widen(load(xp, t1 * n + i));
                    for k in 0..4 {
                        let (wl, wh) = widen(load(wp, (r + k) * n + i));
                        a[0][k] = i32x4_add(a[0][k], madd(x0l, x0h, wl, wh));
                        a[1][k] = i32x4_add(a[1][k], madd(x1l, x1h, wl, wh));
                    }
                    i += 16;
                }
                for k in 0..4 {
                    out[t * rows + r + k] = sum(a[0][k]);
                    if pair {
                        out[t1 * rows + r + k] = sum(a[1][k]);
                    }
                }
                t += 2;
            }
            r += 4;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_exact_at_the_extremes() {
        let x = vec![-127i8; 32];
        let mut w = vec![127i8; 32 * 4];
        w[32..64].fill(-127);
        let mut out = [0; 4];
        matmul(&x, &w, 32, &mut out);
        assert_eq!(out, [-516_128, 516_128, -516_128, -516_128]);
    }

    #[test]
    fn each_token_and_row_sees_its_own_values() {
        // Three tokens (an odd count: the last has no pair), four rows.
        let x: Vec<i8> = (0..48)
            .map(|i| (i % 16) as i8 * (i / 16 + 1) as i8)
            .collect();
        let w: Vec<i8> = (0..64).map(|i| (i / 16) as i8).collect();
        let mut out = [0; 12];
        matmul(&x, &w, 16, &mut out);
        // Σ (0..16) = 120; token t scales it by t + 1, row r by r.
        assert_eq!(out, [0, 120, 240, 360, 0, 240, 480, 720, 0, 360, 720, 1080]);
    }

    #[test]
    #[should_panic(expected = "assertion failed")]
    fn rows_must_come_in_fours() {
        matmul(&[0; 16], &[0; 48], 16, &mut [0; 3]);
    }
}
