//! `fk cost`: the monthly bill of a workload, from the per-operation calls
//! and function durations `make bench` measured, against ZooKeeper on VMs.
//!
//! # Layout
//!
//! - [`prices`]: the dated us-east-1 price table, or one from a file.
//! - [`profile`]: calls and durations per operation (`make bench` writes
//!   `crates/cli/data/profile.json`).
//! - [`model`]: the arithmetic.
//! - [`grid`]: the original's comparison grid, as a table and a chart.

pub mod grid;
pub mod model;
pub mod prices;
pub mod profile;

use std::path::PathBuf;
use std::process::ExitCode;

use model::{monthly, Workload};
use prices::Prices;
use profile::Profile;

#[derive(Debug, Clone, clap::Args)]
pub struct CostArgs {
    /// Requests (reads and writes) a day.
    #[arg(long, default_value_t = 100_000.0)]
    requests_per_day: f64,
    /// Reads among the requests, 0 to 1.
    #[arg(long, default_value_t = 0.9)]
    read_ratio: f64,
    /// The user store.
    #[arg(long, default_value = "s3", value_parser = ["s3", "dynamodb", "redis"])]
    store: String,
    /// A price table (JSON, the shape of crates/cli/data/prices-us-east-1.json).
    #[arg(long)]
    prices: Option<PathBuf>,
    /// Per-operation calls and durations (JSON, as `make bench` writes
    /// crates/cli/data/profile.json).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Print the original's grid (100K–5M requests a day; 80, 90, 100 %
    /// reads; every store) as a Markdown table instead.
    #[arg(long)]
    grid: bool,
    /// With --grid: also write the grid as an SVG chart to this file.
    #[arg(long, requires = "grid")]
    svg: Option<PathBuf>,
}

pub fn run(args: &CostArgs, json: bool) -> ExitCode {
    match bill(args, json) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("fk cost: {message}");
            ExitCode::from(2)
        }
    }
}

fn bill(args: &CostArgs, json: bool) -> Result<String, String> {
    let prices = match &args.prices {
        Some(path) => Prices::from_file(path)?,
        None => Prices::us_east_1(),
    };
    let profile = match &args.profile {
        Some(path) => Profile::from_file(path)?,
        None => Profile::committed(),
    };
    if args.grid {
        let grid = grid::compute(&profile, &prices)?;
        if let Some(path) = &args.svg {
            std::fs::write(path, grid.svg())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        return Ok(grid.markdown());
    }
    let workload = Workload {
        requests_per_day: args.requests_per_day,
        read_ratio: args.read_ratio,
    };
    let bill = monthly(workload, &args.store, &profile, &prices)?;
    let mut ensembles = Vec::new();
    for count in [3, 9] {
        for instance in prices.vm_hourly.keys() {
            ensembles.push((
                format!("{count}×{instance}"),
                prices.vms_monthly(count, instance)?,
            ));
        }
    }
    if json {
        let doc = serde_json::json!({
            "requests_per_day": workload.requests_per_day,
            "read_ratio": workload.read_ratio,
            "store": args.store,
            "prices_date": prices.date,
            "monthly": bill.total(),
            "by_service": bill.by_service,
            "zookeeper": ensembles.iter().map(|(name, dollars)| serde_json::json!({
                "ensemble": name, "monthly": dollars, "ratio": dollars / bill.total()
            })).collect::<Vec<_>>(),
        });
        return Ok(format!("{doc:#}\n"));
    }
    let mut out = format!(
        "{} requests/day, {:.0} % reads, {} user store; {} prices of {}, {} h a month\n",
        grid::thousands(workload.requests_per_day),
        workload.read_ratio * 100.0,
        args.store,
        prices.region,
        prices.date,
        prices.hours_per_month
    );
    for (service, dollars) in &bill.by_service {
        out.push_str(&format!("  {service:<10} ${dollars:>10.2}\n"));
    }
    out.push_str(&format!(
        "  {:<10} ${:>10.2} a month\n",
        "total",
        bill.total()
    ));
    out.push_str("ZooKeeper on VMs (on demand):\n");
    for (name, dollars) in ensembles {
        out.push_str(&format!(
            "  {name:<12} ${dollars:>9.2} a month, {:.1}× this bill\n",
            dollars / bill.total()
        ));
    }
    Ok(out)
}
