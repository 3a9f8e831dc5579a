//! The Fréchet distance between Gaussians fitted to two sets of feature vectors (the FID
//! recipe). The evaluation measures generated windows with it in a classifier's feature space
//! ([`crate::core::eval::generative`]); a generator's GPT can be judged with it on summaries
//! of its sampled windows while it trains ([`crate::core::model::sample_check`]).

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Mean and covariance (with `ridge` added to the diagonal) of row vectors.
fn moments(x: &[Vec<f32>], ridge: f64) -> Option<(DVector<f64>, DMatrix<f64>)> {
    let n = x.len();
    let d = x.first()?.len();
    if n < 2 || d == 0 || x.iter().any(|r| r.len() != d) {
        return None;
    }
    let m = DMatrix::from_fn(n, d, |i, j| f64::from(x[i][j]));
    let mu = m.row_mean().transpose();
    let centred = DMatrix::from_fn(n, d, |i, j| m[(i, j)] - mu[j]);
    let mut cov = centred.transpose() * &centred / (n - 1) as f64;
    for i in 0..d {
        cov[(i, i)] += ridge;
    }
    Some((mu, cov))
}

/// Square root of a symmetric positive semi-definite matrix (negative eigenvalues from
/// rounding are clamped to zero).
fn sqrtm_psd(a: &DMatrix<f64>) -> DMatrix<f64> {
    let e = SymmetricEigen::new(a.clone());
    let s = DMatrix::from_diagonal(&e.eigenvalues.map(|l| l.max(0.0).sqrt()));
    &e.eigenvectors * s * e.eigenvectors.transpose()
}

/// Fréchet distance between Gaussians fitted to two sets of feature vectors:
/// `|μa − μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½)`. The trace of the cross term is taken from
/// the eigenvalues of the symmetric matrix `Σa^½ Σb Σa^½`, which is stable where `ΣaΣb` is not
/// symmetric. `None` with fewer than two vectors on either side or mismatched widths.
#[must_use]
pub fn frechet_distance(a: &[Vec<f32>], b: &[Vec<f32>]) -> Option<f64> {
    // A small ridge keeps the covariances of few, wide vectors well conditioned.
    let (ma, ca) = moments(a, 1e-6)?;
    let (mb, cb) = moments(b, 1e-6)?;
    if ma.len() != mb.len() {
        return None;
    }
    let sa = sqrtm_psd(&ca);
    let mut inner = &sa * &cb * &sa;
    inner = (&inner + inner.transpose()) * 0.5;
    let cross: f64 = SymmetricEigen::new(inner)
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum();
    let d = (ma - mb).norm_squared() + ca.trace() + cb.trace() - 2.0 * cross;
    Some(d.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(n: usize, shift: f32, scale: f32) -> Vec<Vec<f32>> {
        // Deterministic, roughly isotropic 3-D points.
        (0..n)
            .map(|i| {
                let t = i as f32 * 0.7;
                vec![
                    shift + scale * t.sin(),
                    scale * (1.3 * t).cos(),
                    scale * (2.1 * t + 0.4).sin(),
                ]
            })
            .collect()
    }

    #[test]
    fn frechet_distance_of_known_cases() {
        let a = cloud(400, 0.0, 1.0);
        assert!(frechet_distance(&a, &a).unwrap() < 1e-6);
        // A pure mean shift of 2 along x adds 4.
        let b = cloud(400, 2.0, 1.0);
        assert!((frechet_distance(&a, &b).unwrap() - 4.0).abs() < 1e-6);
        // 1-D: N(0, 1) vs N(0, 4) -> 1 + 4 - 2*2 = 1.
        let u: Vec<Vec<f32>> = (0..1000).map(|i| vec![((i as f32) * 0.37).sin()]).collect();
        let var: f64 = {
            let m = u.iter().map(|v| f64::from(v[0])).sum::<f64>() / 1000.0;
            u.iter().map(|v| (f64::from(v[0]) - m).powi(2)).sum::<f64>() / 999.0
        };
        let w: Vec<Vec<f32>> = u.iter().map(|v| vec![2.0 * v[0]]).collect();
        let expected = var + 4.0 * var - 2.0 * (var * 4.0 * var).sqrt();
        assert!((frechet_distance(&u, &w).unwrap() - expected).abs() < 1e-5);
        // Symmetric, and undefined for a single vector or mismatched widths.
        let c = cloud(300, 0.5, 1.5);
        let (x, y) = (
            frechet_distance(&a, &c).unwrap(),
            frechet_distance(&c, &a).unwrap(),
        );
        assert!((x - y).abs() < 1e-6 * x.max(1.0));
        assert!(frechet_distance(&a[..1], &c).is_none());
        assert!(frechet_distance(&a, &[vec![0.0; 2], vec![1.0; 2]]).is_none());
    }
}
