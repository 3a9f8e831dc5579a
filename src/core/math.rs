//! Small 3-vector helpers. Positions are stored as `[f32; 3]`; geometry that accumulates error
//! (forward kinematics, angle extraction) is done in `f64`.

/// A point or direction in metres, `[x, y, z]`.
pub type Vec3 = [f32; 3];

/// `a - b`.
#[must_use]
pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// `a + b`.
#[must_use]
pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `a * s`.
#[must_use]
pub fn scale(a: Vec3, s: f32) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// Dot product.
#[must_use]
pub fn dot(a: Vec3, b: Vec3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Cross product `a x b`.
#[must_use]
pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Euclidean length.
#[must_use]
pub fn norm(a: Vec3) -> f32 {
    dot(a, a).sqrt()
}

/// Unit vector along `a`, or `None` for a (near-)zero vector.
#[must_use]
pub fn normalize(a: Vec3) -> Option<Vec3> {
    let n = norm(a);
    (n > 1e-9 && n.is_finite()).then(|| scale(a, 1.0 / n))
}

/// Midpoint of `a` and `b`.
#[must_use]
pub fn mid(a: Vec3, b: Vec3) -> Vec3 {
    scale(add(a, b), 0.5)
}

/// True when all three coordinates are finite.
#[must_use]
pub fn is_finite(a: Vec3) -> bool {
    a.iter().all(|v| v.is_finite())
}

/// Lower-case hex of bytes (digests in file names and provenance).
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// At most `cap` of `items` (all when `cap` is 0 or not smaller), evenly spaced so that every
/// part of the list is represented: classes, subjects and walks come in runs, and the first
/// `cap` would measure one run only.
#[must_use]
pub fn evenly_spaced<T>(items: &[T], cap: usize) -> Vec<&T> {
    if cap == 0 || items.len() <= cap {
        return items.iter().collect();
    }
    (0..cap).map(|i| &items[i * items.len() / cap]).collect()
}

/// Arithmetic mean of finite values; `None` when there are none.
#[must_use]
pub fn mean(values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
}

/// Sample standard deviation (n - 1) of finite values; `None` with fewer than two.
#[must_use]
pub fn std_dev(values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 2 {
        return None;
    }
    let m = finite.iter().sum::<f64>() / finite.len() as f64;
    let var = finite.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (finite.len() - 1) as f64;
    Some(var.sqrt())
}

/// Quantile `q` in `[0, 1]` of finite values with linear interpolation (numpy's default).
#[must_use]
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (finite.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let t = pos - lo as f64;
    Some(finite[lo] * (1.0 - t) + finite[hi] * t)
}

/// Median of finite values.
#[must_use]
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Resamples a curve to `n` evenly spaced points with linear interpolation (n >= 2).
#[must_use]
pub fn resample_linear(values: &[f64], n: usize) -> Vec<f64> {
    if values.is_empty() || n == 0 {
        return Vec::new();
    }
    if values.len() == 1 || n == 1 {
        return vec![values[0]; n];
    }
    let last = (values.len() - 1) as f64;
    (0..n)
        .map(|i| {
            let x = i as f64 * last / (n - 1) as f64;
            let lo = (x.floor() as usize).min(values.len() - 2);
            let t = x - lo as f64;
            values[lo] * (1.0 - t) + values[lo + 1] * t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_numpy_conventions() {
        let v = [1.0, 2.0, 3.0, 4.0, f64::NAN];
        assert_eq!(mean(&v), Some(2.5));
        assert!((std_dev(&v).unwrap() - 1.290_994).abs() < 1e-5);
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn evenly_spaced_reaches_every_run_of_the_list() {
        let v: Vec<usize> = (0..100).collect();
        let picked: Vec<usize> = evenly_spaced(&v, 4).into_iter().copied().collect();
        assert_eq!(picked, vec![0, 25, 50, 75]);
        assert_eq!(evenly_spaced(&v, 0).len(), 100);
        assert_eq!(evenly_spaced(&v[..3], 5).len(), 3);
    }

    #[test]
    fn resample_keeps_endpoints() {
        let r = resample_linear(&[0.0, 10.0, 20.0], 5);
        assert_eq!(r, vec![0.0, 5.0, 10.0, 15.0, 20.0]);
    }

    #[test]
    fn cross_follows_right_hand_rule() {
        let c = cross([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]);
        assert!((c[0] - 1.0).abs() < 1e-7 && c[1].abs() < 1e-7 && c[2].abs() < 1e-7);
    }
}
