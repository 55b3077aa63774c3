//! Percentiles and medians of samples.

use std::collections::BTreeMap;
use std::time::Duration;

/// p50, p95, p99 in milliseconds.
pub fn percentiles(samples: &mut [Duration]) -> [f64; 3] {
    samples.sort();
    [0.50, 0.95, 0.99].map(|p| {
        let i = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1e3
    })
}

/// Calls by operation: the median of each over repetitions (a call absent
/// from a repetition counts as 0 there).
pub fn median_calls(reps: &[BTreeMap<String, u64>]) -> BTreeMap<String, f64> {
    let keys: std::collections::BTreeSet<&String> = reps.iter().flat_map(|r| r.keys()).collect();
    let mut out = BTreeMap::new();
    for key in keys {
        let mut values: Vec<u64> = reps.iter().map(|r| *r.get(key).unwrap_or(&0)).collect();
        values.sort();
        let median = values[values.len() / 2] as f64;
        if median > 0.0 {
            out.insert(key.clone(), median);
        }
    }
    out
}

pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
