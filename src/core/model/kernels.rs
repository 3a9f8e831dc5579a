//! Element-wise kernels for the recurrent classifiers and the GPT, as a burn backend extension.
//!
//! Why: a profile of a three-classifier LOSO fold (`perf record`, README "Learning speed") put a
//! third of the classifier threads' time in burn's sigmoid on the CPU backend: one scalar `expf`
//! call per element, and burn's autodiff evaluates the sigmoid a second time in the backward pass
//! (it keeps the input, not the output). Here the CPU backend (Flex) evaluates σ and tanh in one
//! pass over contiguous memory with a branch-free exponential that the compiler vectorises (AVX2
//! or AVX-512, chosen at run time through `pulp`), and the autodiff wrapper keeps the output, so
//! the backward pass is one multiply-add pass with no exponential. Other backends (burn-wgpu) run
//! burn's own operations, so their results do not change.
//!
//! The GPT's exact GELU (`x Φ(x)`) likewise: burn's evaluates `erf` with the scalar libm call in
//! the forward pass and `erf` and `exp` again in the backward (together ~5 % of a fold's time).
//!
//! Accuracy: the exponential is Cephes' `expf` (Cody-Waite reduction, degree-6 polynomial), within
//! 2 ulp of the C library's; `erf` is Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).
//! σ, tanh and GELU stay within 3e-7 (relative to `1 + |y|`) of exact values (tested). NaN
//! propagates.

// The kernels must inline into the body `pulp` compiles per instruction set, or they stay scalar
// calls (measured: a function pointer here left σ at one call per element).
#![allow(clippy::inline_always)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, Backend, Cube, DType, Dispatch, Flex, TensorMetadata, backend_extension,
};
use burn::prelude::*;

/// The extension: σ and tanh with a backward pass that reuses the forward's output.
#[backend_extension(Flex, Cube, Autodiff)]
pub trait GaitKernels: burn::backend::Backend {
    /// `σ(x) = 1 / (1 + e^−x)`, element-wise.
    fn gait_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::sigmoid(x)
    }

    /// `tanh(x)`, element-wise.
    fn gait_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_tanh(x)
    }

    /// `gelu(x) = x Φ(x)` with the exact normal CDF `Φ` (burn's and GPT-2's original form).
    fn gait_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(x)
    }

    /// The gradient through gelu from its input `x`: `grad ⊙ (Φ(x) + x φ(x))`.
    fn gait_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu_backward(x, grad)
    }

    /// The gradient through `t = tanh(x)`: `grad ⊙ (1 − t²)`, from the output `t`.
    fn gait_tanh_backward(output: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let sq = Self::float_mul(output.clone(), output);
        let one_minus = Self::float_add_scalar(Self::float_neg(sq), 1.0.into());
        Self::float_mul(grad, one_minus)
    }
}

/// σ(x) on any backend; on the CPU backend the vectorised kernel, and in training a backward
/// pass from the output.
#[must_use]
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as GaitKernels>::gait_sigmoid(x.into_dispatch()))
}

/// gelu(x) on any backend, as [`sigmoid`] (the backward pass keeps the input, as burn's).
#[must_use]
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as GaitKernels>::gait_gelu(x.into_dispatch()))
}

/// tanh(x) on any backend, as [`sigmoid`].
#[must_use]
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as GaitKernels>::gait_tanh(x.into_dispatch()))
}

impl GaitKernels for Cube {}

impl GaitKernels for Flex {
    fn gait_sigmoid(x: FlexTensor) -> FlexTensor {
        map_f32(x, sigmoid_f32, Flex::sigmoid)
    }

    fn gait_tanh(x: FlexTensor) -> FlexTensor {
        map_f32(x, tanh_f32, Flex::float_tanh)
    }

    fn gait_gelu(x: FlexTensor) -> FlexTensor {
        map_f32(x, gelu_f32, Flex::gelu)
    }

    fn gait_gelu_backward(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
        zip_f32(x, grad, gelu_grad_f32, Flex::gelu_backward)
    }

    fn gait_tanh_backward(output: FlexTensor, grad: FlexTensor) -> FlexTensor {
        burn::backend::flex::ops::binary::binary_op(
            output,
            grad,
            |t: f32, g| g * (1.0 - t * t),
            |t: f64, g| g * (1.0 - t * t),
            None,
        )
    }
}

impl<B: Backend + GaitKernels, C: CheckpointStrategy> GaitKernels for Autodiff<B, C> {
    fn gait_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        /// Backward of σ from its output `s`: `grad ⊙ s ⊙ (1 − s)`.
        #[derive(Debug)]
        struct SigmoidBackward;

        impl<B: Backend> Backward<B, 1> for SigmoidBackward {
            type State = FloatTensor<B>;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let output = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::sigmoid_backward(output, grad)
                });
            }
        }

        let (primitive, node) = x.into_parts();
        match SigmoidBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let output = B::gait_sigmoid(primitive);
                prep.finish(output.clone(), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gait_sigmoid(primitive)),
        }
    }

    fn gait_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        /// Backward of gelu from its input.
        #[derive(Debug)]
        struct GeluBackward;

        impl<B: Backend + GaitKernels> Backward<B, 1> for GeluBackward {
            type State = FloatTensor<B>;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let input = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::gait_gelu_backward(input, grad)
                });
            }
        }

        let (primitive, node) = x.into_parts();
        match GeluBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let output = B::gait_gelu(primitive.clone());
                prep.finish(primitive, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gait_gelu(primitive)),
        }
    }

    fn gait_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        /// Backward of tanh from its output `t`: `grad ⊙ (1 − t²)`.
        #[derive(Debug)]
        struct TanhBackward;

        impl<B: Backend + GaitKernels> Backward<B, 1> for TanhBackward {
            type State = FloatTensor<B>;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let output = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::gait_tanh_backward(output, grad)
                });
            }
        }

        let (primitive, node) = x.into_parts();
        match TanhBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let output = B::gait_tanh(primitive);
                prep.finish(output.clone(), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gait_tanh(primitive)),
        }
    }
}

/// `f` (inlined, so that it is compiled for the dispatched instruction set; through a function
/// pointer it stays one scalar call per element) over every element of an f32 tensor, in place when the tensor owns its buffer alone;
/// `Err(x)` for other element types. The loop runs inside `pulp`'s dispatch, which compiles it
/// for the widest vector instructions the CPU has (AVX-512, AVX2+FMA) and picks at run time.
#[inline(always)]
fn map_f32(
    x: FlexTensor,
    f: impl Fn(f32) -> f32 + Copy,
    other: impl FnOnce(FlexTensor) -> FlexTensor,
) -> FlexTensor {
    if x.dtype() != DType::F32 {
        return other(x);
    }
    // A non-contiguous view becomes a fresh contiguous buffer; a contiguous one stays as it is
    // (written in place when unique, copied once by `storage_mut` when shared).
    let mut t = if x.is_contiguous() {
        x
    } else {
        x.to_contiguous()
    };
    let Some((start, end)) = t.layout().contiguous_offsets() else {
        return other(t);
    };
    let data: &mut [f32] = &mut t.storage_mut::<f32>()[start..end];
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for v in data.iter_mut() {
                *v = f(*v);
            }
        },
    );
    t
}

/// `f(x, g)` over two f32 tensors of one shape, written into `g`'s buffer (copied first when
/// shared or not contiguous); `other(x, g)` for other element types or shapes.
#[inline(always)]
fn zip_f32(
    x: FlexTensor,
    g: FlexTensor,
    f: impl Fn(f32, f32) -> f32 + Copy,
    other: impl FnOnce(FlexTensor, FlexTensor) -> FlexTensor,
) -> FlexTensor {
    if x.dtype() != DType::F32 || g.dtype() != DType::F32 || x.shape() != g.shape() {
        return other(x, g);
    }
    let x = if x.is_contiguous() {
        x
    } else {
        x.to_contiguous()
    };
    let mut g = if g.is_contiguous() {
        g
    } else {
        g.to_contiguous()
    };
    let (Some((xs, xe)), Some((gs, ge))) = (
        x.layout().contiguous_offsets(),
        g.layout().contiguous_offsets(),
    ) else {
        return other(x, g);
    };
    let xv: &[f32] = &x.storage::<f32>()[xs..xe];
    let gv: &mut [f32] = &mut g.storage_mut::<f32>()[gs..ge];
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for (gi, xi) in gv.iter_mut().zip(xv) {
                *gi = f(*xi, *gi);
            }
        },
    );
    g
}

/// `e^a` for `a ≤ 0` (Cephes `expf`): `a = n ln 2 + r`, `|r| ≤ ln 2 / 2`, `e^r` by a degree-6
/// polynomial, `2^n` written into the exponent bits. Branch-free so that it vectorises; inputs
/// below −87.3 give `e^−87.3` (1e-38) instead of a denormal or zero, which no caller can tell
/// apart after adding 1.
#[inline(always)]
fn exp_nonpositive(a: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer without a libm call.
    const ROUND: f32 = 12_582_912.0;
    let a = a.max(-87.3);
    let n = (a * LOG2E + ROUND) - ROUND;
    let r = a - n * LN2_HI - n * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * z + r + 1.0;
    // n ∈ [−126, 0]: 2^n is a normal f32 with exponent field n + 127.
    let two_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    er * two_n
}

/// σ(x) from `e = e^−|x|`: `1 / (1 + e)` for `x ≥ 0`, `e / (1 + e)` below (no overflow anywhere).
#[inline(always)]
fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_nonpositive(-x.abs());
    let r = 1.0 / (1.0 + e);
    let s = if x >= 0.0 { r } else { e * r };
    if x.is_nan() { x } else { s }
}

/// tanh(x) from `e = e^−2|x|`: `sign(x) (1 − e) / (1 + e)`.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let e = exp_nonpositive(-2.0 * x.abs());
    let t = (1.0 - e) / (1.0 + e);
    if x.is_nan() { x } else { t.copysign(x) }
}

/// `erf(x)` for `x ≥ 0` from `e = e^−x²` (Abramowitz and Stegun 7.1.26, absolute error below
/// 1.5e-7, the size of f32 rounding near 1).
#[inline(always)]
fn erf_nonnegative(x: f32, e: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    1.0 - poly * e
}

/// `Φ(x)` and `φ(x)`, the standard normal CDF and density, sharing one exponential.
#[inline(always)]
fn normal_cdf_pdf(x: f32) -> (f32, f32) {
    const INV_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    // 1 / √(2π)
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    let e = exp_nonpositive(-0.5 * x * x); // e^−(x/√2)²
    let erf = erf_nonnegative(x.abs() * INV_SQRT_2, e).copysign(x);
    (0.5 * (1.0 + erf), INV_SQRT_2PI * e)
}

/// `x Φ(x)`.
#[inline(always)]
fn gelu_f32(x: f32) -> f32 {
    let (cdf, _) = normal_cdf_pdf(x);
    if x.is_nan() { x } else { x * cdf }
}

/// `g (Φ(x) + x φ(x))`.
#[inline(always)]
fn gelu_grad_f32(x: f32, g: f32) -> f32 {
    let (cdf, pdf) = normal_cdf_pdf(x);
    let d = cdf + x * pdf;
    if x.is_nan() { x } else { g * d }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Vec<f32> {
        // Dense around 0, out to where σ saturates and past exp's clamp, both signs.
        let mut v: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.005).collect();
        v.extend([
            -200.0, -90.0, -87.0, -30.0, -1e-6, 0.0, 1e-6, 30.0, 87.0, 90.0, 200.0,
        ]);
        v
    }

    #[test]
    fn scalar_kernels_match_the_c_library_within_3e_7() {
        for x in grid() {
            let want_s = 1.0 / (1.0 + f64::from(-x).exp());
            let want_t = f64::from(x).tanh();
            let (s, t) = (f64::from(sigmoid_f32(x)), f64::from(tanh_f32(x)));
            assert!((s - want_s).abs() < 3e-7, "σ({x}) = {s}, want {want_s}");
            assert!((t - want_t).abs() < 3e-7, "tanh({x}) = {t}, want {want_t}");
        }
        assert!(sigmoid_f32(f32::NAN).is_nan() && tanh_f32(f32::NAN).is_nan());
        assert!(gelu_f32(f32::NAN).is_nan() && gelu_grad_f32(f32::NAN, 1.0).is_nan());
        for x in grid() {
            let xd = f64::from(x);
            let cdf = 0.5 * (1.0 + libm::erf(xd * std::f64::consts::FRAC_1_SQRT_2));
            let pdf = (-0.5 * xd * xd).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let (y, d) = (f64::from(gelu_f32(x)), f64::from(gelu_grad_f32(x, 1.0)));
            let tol = 3e-7 * (1.0 + xd.abs());
            assert!(
                (y - xd * cdf).abs() < tol,
                "gelu({x}) = {y}, want {}",
                xd * cdf
            );
            assert!((d - (cdf + xd * pdf)).abs() < tol, "gelu'({x}) = {d}");
        }
        for a in [-87.0f32, -10.0, -1.0, -0.3, 0.0] {
            let rel = (f64::from(exp_nonpositive(a)) / f64::from(a).exp() - 1.0).abs();
            assert!(rel < 3e-7, "exp({a}) relative error {rel}");
        }
    }

    /// Values and gradients against burn's own σ and tanh, through the autodiff CPU backend, on a
    /// transposed (non-contiguous) view and on a shared tensor that must not be overwritten.
    #[test]
    fn forward_and_gradients_match_burns_operations() {
        let device = Device::flex().autodiff();
        let xs: Vec<f32> = (0..96).map(|i| (i as f32 - 48.0) * 0.173).collect();
        let base = Tensor::<2>::from_data(TensorData::new(xs.clone(), [8, 12]), &device);
        for (which, ours, theirs) in [
            (
                "sigmoid",
                sigmoid::<2> as fn(Tensor<2>) -> Tensor<2>,
                burn::tensor::activation::sigmoid::<2> as fn(Tensor<2>) -> Tensor<2>,
            ),
            ("tanh", tanh::<2>, burn::tensor::activation::tanh::<2>),
            ("gelu", gelu::<2>, burn::tensor::activation::gelu::<2>),
        ] {
            let run = |f: fn(Tensor<2>) -> Tensor<2>| {
                let x = base.clone().require_grad();
                let kept = x.clone().transpose();
                let y = f(kept.clone());
                // Weighted sum so that every element's gradient differs.
                let w = Tensor::<2>::from_data(
                    TensorData::new((0..96).map(|i| 1.0 + i as f32 * 0.01).collect(), [12, 8]),
                    &device,
                );
                let grads = (y.clone() * w).sum().backward();
                let g = x
                    .grad(&grads)
                    .unwrap()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap();
                // The input view is still what it was.
                let k = kept.transpose().into_data().try_to_vec::<f32>().unwrap();
                (y.into_data().try_to_vec::<f32>().unwrap(), g, k)
            };
            let (y1, g1, k1) = run(ours);
            let (y2, g2, _) = run(theirs);
            assert_eq!(k1, xs, "{which} overwrote its input");
            for i in 0..96 {
                let tol = 3e-7 * (1.0 + y2[i].abs());
                assert!(
                    (y1[i] - y2[i]).abs() < tol,
                    "{which} value {i}: {} vs {}",
                    y1[i],
                    y2[i]
                );
                assert!(
                    (g1[i] - g2[i]).abs() < 2e-6,
                    "{which} grad {i}: {} vs {}",
                    g1[i],
                    g2[i]
                );
            }
        }
    }
}
