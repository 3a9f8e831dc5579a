//! The classifiers' recurrent layers (GRU and LSTM), written for throughput on the CPU backend.
//!
//! burn's `Gru`/`Lstm` run six or eight separate matrix products per time step and write every
//! hidden state into a `[B, T, H]` tensor with `slice_assign`, whose backward pass builds a
//! full-size gradient per step: on 32-step windows that bookkeeping, not arithmetic, was most of
//! a classifier epoch. Here each step is two matrix products of all gates at once (input and
//! recurrent), the gates are cut from their result, and the hidden states are summed as they
//! come (the classifiers mean-pool over time), so nothing of size `T` is built in the graph.
//! σ and tanh are the vectorised kernels of `model::kernels` (a third of the classifiers' time
//! went to burn's scalar sigmoid, evaluated twice per training step).
//!
//! Equations (`PyTorch`'s, gates in this order):
//! - GRU: `r, z = σ(x Wᵢ + bᵢ + h Wₕ + bₕ)`, `n = tanh(x Wᵢₙ + bᵢₙ + r ⊙ (h Wₕₙ + bₕₙ))`,
//!   `h' = (1 − z) ⊙ n + z ⊙ h`.
//! - LSTM: `i, f, g, o = σ, σ, tanh, σ (x Wᵢ + bᵢ + h Wₕ + bₕ)`, `c' = f ⊙ c + i ⊙ g`,
//!   `h' = o ⊙ tanh(c')`.

use crate::core::model::kernels::{sigmoid, tanh};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

/// Which recurrence a [`Recurrent`] layer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Gated recurrent unit: 3 gates (reset, update, new).
    Gru,
    /// Long short-term memory: 4 gates (input, forget, cell, output).
    Lstm,
}

impl Cell {
    /// Gates per unit.
    #[must_use]
    pub fn gates(self) -> usize {
        match self {
            Self::Gru => 3,
            Self::Lstm => 4,
        }
    }
}

/// One recurrent layer: the input and recurrent weights of all gates side by side.
#[derive(Module, Debug)]
pub struct Recurrent {
    /// `F -> G·H`.
    input: Linear,
    /// `H -> G·H`.
    hidden: Linear,
}

impl Recurrent {
    /// A fresh layer: weights and biases uniform in ±1/√fan-in (burn's `Linear` default;
    /// `PyTorch`'s recurrent layers draw the input weights from ±1/√H instead of ±1/√F).
    #[must_use]
    pub fn new(cell: Cell, features: usize, hidden: usize, device: &Device) -> Self {
        let g = cell.gates();
        Self {
            input: LinearConfig::new(features, g * hidden).init(device),
            hidden: LinearConfig::new(hidden, g * hidden).init(device),
        }
    }

    /// Hidden width `H`.
    #[must_use]
    pub fn width(&self, cell: Cell) -> usize {
        self.hidden.weight.dims()[1] / cell.gates()
    }

    /// Runs the layer over `steps` (T tensors `[B, F]`, zero initial state) and returns the
    /// hidden state averaged over time, `[B, H]`.
    #[must_use]
    pub fn forward_mean(&self, cell: Cell, steps: Vec<Tensor<2>>) -> Tensor<2> {
        let Some(first) = steps.first() else {
            return Tensor::zeros([0, self.width(cell)], &self.hidden.weight.device());
        };
        let [b, _] = first.dims();
        let w = self.width(cell);
        let device = first.device();
        let t = steps.len();
        let mut h: Tensor<2> = Tensor::zeros([b, w], &device);
        let mut c: Tensor<2> = Tensor::zeros([b, w], &device);
        let mut sum: Option<Tensor<2>> = None;
        // LSTM: one sigmoid over all four gates, the cell gate's pre-activation doubled so that
        // its tanh is `2σ(2a) − 1`: one pass over [B, 4H] instead of four over narrowed views.
        let lstm_scale = (cell == Cell::Lstm).then(|| {
            let v: Vec<f32> = (0..4 * w)
                .map(|j| if j / w == 2 { 2.0 } else { 1.0 })
                .collect();
            Tensor::<2>::from_data(TensorData::new(v, [1, 4 * w]), &device)
        });
        for x in steps {
            let gi = self.input.forward(x); // [B, G·H]
            let gh = self.hidden.forward(h.clone()); // [B, G·H]
            match &lstm_scale {
                None => {
                    let (gi_rz, gi_n) = (gi.clone().narrow(1, 0, 2 * w), gi.narrow(1, 2 * w, w));
                    let (gh_rz, gh_n) = (gh.clone().narrow(1, 0, 2 * w), gh.narrow(1, 2 * w, w));
                    let rz = sigmoid(gi_rz + gh_rz); // [B, 2H]: reset | update
                    let (reset, update) = (rz.clone().narrow(1, 0, w), rz.narrow(1, w, w));
                    let new = tanh(gi_n + reset * gh_n);
                    // h' = n + z (h − n): one fewer element-wise pass than (1 − z) n + z h.
                    h = new.clone() + update * (h - new);
                }
                Some(scale) => {
                    let a = sigmoid((gi + gh) * scale.clone()); // [B, 4H]: i | f | 2g | o
                    let ig = a.clone().narrow(1, 0, w);
                    let fg = a.clone().narrow(1, w, w);
                    let gg = a
                        .clone()
                        .narrow(1, 2 * w, w)
                        .mul_scalar(2.0)
                        .sub_scalar(1.0);
                    let og = a.narrow(1, 3 * w, w);
                    c = fg * c + ig * gg;
                    h = og * tanh(c.clone());
                }
            }
            sum = Some(match sum {
                Some(s) => s + h.clone(),
                None => h.clone(),
            });
        }
        sum.unwrap_or(h) / t as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(b: usize, t: usize, f: usize, device: &Device) -> Vec<Tensor<2>> {
        (0..t)
            .map(|k| {
                let v: Vec<f32> = (0..b * f)
                    .map(|i| ((i * 7 + k * 13) % 17) as f32 / 17.0 - 0.5)
                    .collect();
                Tensor::<2>::from_data(TensorData::new(v, [b, f]), device)
            })
            .collect()
    }

    /// Hand-rolled single-unit GRU and LSTM against the layer, so the gate order and the
    /// equations above are what runs.
    #[test]
    fn one_unit_matches_the_equations() {
        let device = Device::default();
        for cell in [Cell::Gru, Cell::Lstm] {
            let layer = Recurrent::new(cell, 2, 1, &device);
            let xs = steps(1, 3, 2, &device);
            let got = layer.forward_mean(cell, xs.clone());
            let got = got.into_data().try_to_vec::<f32>().unwrap_or_default();
            let wi = layer
                .input
                .weight
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let wh = layer
                .hidden
                .weight
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let bi = layer.input.bias.as_ref().unwrap().val().into_data();
            let bh = layer.hidden.bias.as_ref().unwrap().val().into_data();
            let (bi, bh) = (
                bi.try_to_vec::<f32>().unwrap(),
                bh.try_to_vec::<f32>().unwrap(),
            );
            let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
            let (mut h, mut c, mut sum) = (0.0f32, 0.0f32, 0.0f32);
            for x in &xs {
                let x = x.clone().into_data().try_to_vec::<f32>().unwrap();
                // Linear weight is [d_in, d_out]: gate k's input weight column k.
                let pre_i = |k: usize| x[0] * wi[k] + x[1] * wi[cell.gates() + k] + bi[k];
                let pre_h = |k: usize| h * wh[k] + bh[k];
                match cell {
                    Cell::Gru => {
                        let r = sig(pre_i(0) + pre_h(0));
                        let z = sig(pre_i(1) + pre_h(1));
                        let n = (pre_i(2) + r * pre_h(2)).tanh();
                        h = (1.0 - z) * n + z * h;
                    }
                    Cell::Lstm => {
                        let a = |k: usize| pre_i(k) + pre_h(k);
                        c = sig(a(1)) * c + sig(a(0)) * a(2).tanh();
                        h = sig(a(3)) * c.tanh();
                    }
                }
                sum += h;
            }
            assert!(
                (got[0] - sum / 3.0).abs() < 1e-5,
                "{cell:?}: {got:?} vs {}",
                sum / 3.0
            );
        }
    }
}
