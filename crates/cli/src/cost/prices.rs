//! The price table: dated us-east-1 list prices, overridable from a file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The committed default (`crates/cli/data/prices-us-east-1.json`).
const DEFAULT: &str = include_str!("../../data/prices-us-east-1.json");

/// Dollars per unit of everything the bill counts. No free tier is applied:
/// the bill is what a workload costs beyond it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// When the prices were read.
    pub date: String,
    pub region: String,
    pub source: String,
    /// Lambda compute, x86_64, per GB-second (billed per 1 ms).
    pub lambda_gb_second: f64,
    pub lambda_request: f64,
    /// Memory every function is configured with (Terraform's
    /// `function_memory_size`).
    pub lambda_memory_mb: f64,
    /// One SQS request (FIFO; each 64 KB chunk of a message is a request).
    pub sqs_request: f64,
    /// S3 Standard PUT/COPY/POST/LIST, and GET/HEAD; DELETE is free.
    pub s3_put: f64,
    pub s3_get: f64,
    /// DynamoDB on demand: one write request unit (1 KB), one read request
    /// unit (4 KB, strongly consistent).
    pub dynamodb_wru: f64,
    pub dynamodb_rru: f64,
    /// ElastiCache Serverless (Valkey): one ECPU, and the monthly charge of
    /// the smallest cache (100 MB minimum).
    pub redis_ecpu: f64,
    pub redis_monthly_minimum: f64,
    /// The month the bill covers (730 h, as AWS's calculator uses).
    pub hours_per_month: f64,
    /// Heartbeat function runs per month (one a minute).
    pub heartbeats_per_month: f64,
    /// The event source mapping's SQS requests per function invocation: one
    /// ReceiveMessage and one DeleteMessageBatch (not counted by the
    /// functions' own counters, so modelled here).
    pub sqs_receives_per_invocation: f64,
    pub sqs_deletes_per_invocation: f64,
    /// EC2 on demand, Linux, per hour, by instance type.
    pub vm_hourly: BTreeMap<String, f64>,
}

impl Prices {
    /// The committed us-east-1 table.
    pub fn us_east_1() -> Prices {
        serde_json::from_str(DEFAULT).expect("the committed price table parses")
    }

    /// A table read from `path` (the same JSON shape as the default).
    pub fn from_file(path: &Path) -> Result<Prices, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// One ZooKeeper ensemble of `count` VMs of `instance` for a month.
    pub fn vms_monthly(&self, count: u32, instance: &str) -> Result<f64, String> {
        let hourly = self
            .vm_hourly
            .get(instance)
            .ok_or_else(|| format!("no price for instance type {instance}"))?;
        Ok(f64::from(count) * hourly * self.hours_per_month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_table_parses_and_is_dated() {
        let prices = Prices::us_east_1();
        assert_eq!(prices.region, "us-east-1");
        assert!(!prices.date.is_empty());
        assert_eq!(prices.lambda_memory_mb, 256.0);
    }

    #[test]
    fn three_t3_small_cost_45_55_a_month() {
        // 3 × $0.0208 × 730 h, as numbers.md quotes.
        let monthly = Prices::us_east_1().vms_monthly(3, "t3.small").unwrap();
        assert!((monthly - 45.552).abs() < 1e-9, "{monthly}");
    }

    #[test]
    fn an_unknown_instance_type_is_an_error() {
        assert!(Prices::us_east_1().vms_monthly(3, "m5.huge").is_err());
    }
}
