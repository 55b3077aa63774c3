//! Order statistics for the examples that time operations.

use std::time::Duration;

/// The `p` quantile (0 to 1) of `sorted`, by the nearest rank to
/// `p × (n − 1)`. Panics on an empty slice.
pub fn quantile<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Milliseconds, with their fraction.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let sorted = [1, 2, 3, 4, 5];
        assert_eq!(quantile(&sorted, 0.0), 1);
        assert_eq!(quantile(&sorted, 0.5), 3);
        assert_eq!(quantile(&sorted, 0.9), 5);
        assert_eq!(quantile(&sorted, 1.0), 5);
        assert_eq!(quantile(&[7], 0.99), 7);
    }
}
