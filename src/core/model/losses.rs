//! The tokeniser's biomechanical loss terms on de-standardised joint features: bone lengths,
//! smoothness (acceleration) and foot contact.

use burn::prelude::*;

/// Bones between common-joint features: `(parent, child)` indices into `REL_JOINTS`, with
/// `None` for the pelvis (at the feature origin).
const BONES: [(Option<usize>, usize); 11] = [
    (None, 0),
    (Some(0), 1),
    (Some(1), 2),
    (None, 3),
    (Some(3), 4),
    (Some(4), 5),
    (Some(5), 6),
    (None, 7),
    (Some(7), 8),
    (Some(8), 9),
    (Some(9), 10),
];

fn joint(x: &Tensor<3>, k: usize) -> Tensor<3> {
    let [b, _, t] = x.dims();
    x.clone().slice([0..b, 3 * k..3 * k + 3, 0..t])
}

/// Biomechanical terms on de-standardised features `[B, F, T]`: bone-length error (m),
/// acceleration error, and foot speed where the real foot is planted (m/s)^2.
pub(crate) fn biomech_losses(
    pred: &Tensor<3>,
    truth: &Tensor<3>,
    fps: f32,
) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
    let [b, _, t] = pred.dims();
    let length = |x: &Tensor<3>, (p, c): (Option<usize>, usize)| -> Tensor<3> {
        let v = match p {
            Some(p) => joint(x, c) - joint(x, p),
            None => joint(x, c),
        };
        v.powi_scalar(2).sum_dim(1).sqrt()
    };
    let bone = BONES
        .iter()
        .map(|bn| {
            (length(pred, *bn) - length(truth, *bn).detach())
                .abs()
                .mean()
                .reshape([1])
        })
        .reduce(|a, c| a + c)
        .unwrap_or_else(|| Tensor::zeros([1], &pred.device()))
        / BONES.len() as f32;
    let acc = |x: &Tensor<3>| {
        let f = x.dims()[1];
        x.clone().slice([0..b, 0..f, 2..t])
            - x.clone().slice([0..b, 0..f, 1..t - 1]).mul_scalar(2.0)
            + x.clone().slice([0..b, 0..f, 0..t - 2])
    };
    let smooth = (acc(pred) - acc(truth).detach())
        .powi_scalar(2)
        .mean()
        .reshape([1]);
    // Foot world velocity = d/dt(foot relative to pelvis) + pelvis velocity (features 34, 35).
    let foot_speed = |x: &Tensor<3>, k: usize| {
        let rel = joint(x, k).slice([0..b, 0..2, 0..t]);
        let d = (rel.clone().slice([0..b, 0..2, 1..t]) - rel.slice([0..b, 0..2, 0..t - 1]))
            .mul_scalar(fps);
        let pv = x.clone().slice([0..b, 34..36, 1..t]);
        (d + pv).powi_scalar(2).sum_dim(1) // [B, 1, T-1], squared speed
    };
    let mut contact = Tensor::<1>::zeros([1], &pred.device());
    for k in [5usize, 6, 9, 10] {
        let planted = foot_speed(truth, k).detach().lower_elem(0.2 * 0.2).float();
        contact = contact + (foot_speed(pred, k) * planted).mean().reshape([1]);
    }
    (bone, smooth, contact / 4.0)
}
