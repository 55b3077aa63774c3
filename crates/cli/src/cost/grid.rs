//! The original's comparison grid (100K–5M requests a day; 80, 90 and 100 %
//! reads), as a Markdown table and an SVG chart.

use std::fmt::Write as _;

use super::model::{monthly, Workload};
use super::prices::Prices;
use super::profile::Profile;

pub const REQUESTS_PER_DAY: [f64; 6] = [
    100_000.0,
    250_000.0,
    500_000.0,
    1_000_000.0,
    2_000_000.0,
    5_000_000.0,
];
pub const READ_RATIOS: [f64; 3] = [0.8, 0.9, 1.0];
pub const STORES: [&str; 3] = ["s3", "dynamodb", "redis"];
/// The ZooKeeper ensembles the original compared with.
pub const ENSEMBLES: [(u32, &str); 3] = [(3, "t3.small"), (3, "t3.medium"), (9, "t3.large")];

/// One cell of the grid: a workload, its bill per store.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub workload: Workload,
    /// Monthly dollars, in the order of [`STORES`].
    pub stores: Vec<f64>,
}

pub struct Grid {
    pub rows: Vec<Row>,
    /// Monthly dollars of each of [`ENSEMBLES`].
    pub ensembles: Vec<f64>,
}

pub fn compute(profile: &Profile, prices: &Prices) -> Result<Grid, String> {
    let mut rows = Vec::new();
    for read_ratio in READ_RATIOS {
        for requests_per_day in REQUESTS_PER_DAY {
            let workload = Workload {
                requests_per_day,
                read_ratio,
            };
            let stores = STORES
                .iter()
                .map(|store| monthly(workload, store, profile, prices).map(|b| b.total()))
                .collect::<Result<_, _>>()?;
            rows.push(Row { workload, stores });
        }
    }
    let ensembles = ENSEMBLES
        .iter()
        .map(|(n, instance)| prices.vms_monthly(*n, instance))
        .collect::<Result<_, _>>()?;
    Ok(Grid { rows, ensembles })
}

impl Grid {
    /// Monthly dollars per store, then ZooKeeper/FaaSKeeper ratios against
    /// the smallest and the largest ensemble.
    pub fn markdown(&self) -> String {
        let (small, large) = (self.ensembles[0], self.ensembles[2]);
        let mut out = String::from(
            "| requests/day | reads | S3 store | DynamoDB store | Redis store | \
             3×t3.small ÷ S3 / DynamoDB / Redis | 9×t3.large ÷ S3 / DynamoDB / Redis |\n\
             |---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for row in &self.rows {
            let ratios = |vms: f64| {
                row.stores
                    .iter()
                    .map(|s| format!("{:.1}×", vms / s))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} % | ${:.2} | ${:.2} | ${:.2} | {} | {} |",
                thousands(row.workload.requests_per_day),
                row.workload.read_ratio * 100.0,
                row.stores[0],
                row.stores[1],
                row.stores[2],
                ratios(small),
                ratios(large)
            );
        }
        out
    }

    /// A log–log chart: monthly dollars against requests a day, one line per
    /// store and read ratio, one horizontal line per ZooKeeper ensemble.
    pub fn svg(&self) -> String {
        const W: f64 = 760.0;
        const H: f64 = 480.0;
        const LEFT: f64 = 70.0;
        const RIGHT: f64 = 200.0;
        const TOP: f64 = 30.0;
        const BOTTOM: f64 = 50.0;
        let (x0, x1) = (REQUESTS_PER_DAY[0].log10(), REQUESTS_PER_DAY[5].log10());
        let dollars = self.rows.iter().flat_map(|r| r.stores.iter().copied());
        let lowest = dollars
            .chain(self.ensembles.iter().copied())
            .fold(f64::MAX, f64::min);
        let highest = self
            .rows
            .iter()
            .flat_map(|r| r.stores.iter().copied())
            .chain(self.ensembles.iter().copied())
            .fold(0.0, f64::max);
        let (y0, y1) = (lowest.log10().floor(), highest.log10().ceil());
        let x = |v: f64| LEFT + (v.log10() - x0) / (x1 - x0) * (W - LEFT - RIGHT);
        let y = |v: f64| TOP + (y1 - v.log10()) / (y1 - y0) * (H - TOP - BOTTOM);

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="18" font-size="14">Monthly cost (USD, log) against requests per day (log)</text>"#
        );
        // Axes and grid lines.
        for decade in (y0 as i32)..=(y1 as i32) {
            let v = 10f64.powi(decade);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">${}</text>"##,
                W - RIGHT,
                y(v),
                y(v),
                LEFT - 6.0,
                y(v) + 4.0,
                money_label(v)
            );
        }
        for r in REQUESTS_PER_DAY {
            let _ = writeln!(
                svg,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{TOP}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                x(r),
                x(r),
                H - BOTTOM,
                x(r),
                H - BOTTOM + 16.0,
                thousands(r)
            );
        }
        let colours = ["#1f77b4", "#2ca02c", "#d62728"];
        let dashes = ["6 3", "", "2 2"];
        let mut legend = Vec::new();
        for (s, store) in STORES.iter().enumerate() {
            for (r, ratio) in READ_RATIOS.iter().enumerate() {
                let points: Vec<String> = self
                    .rows
                    .iter()
                    .filter(|row| row.workload.read_ratio == *ratio)
                    .map(|row| {
                        format!(
                            "{:.1},{:.1}",
                            x(row.workload.requests_per_day),
                            y(row.stores[s])
                        )
                    })
                    .collect();
                let _ = writeln!(
                    svg,
                    r#"<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" points="{}"/>"#,
                    colours[s],
                    dashes[r],
                    points.join(" ")
                );
                legend.push((
                    format!("{store}, {:.0} % reads", ratio * 100.0),
                    colours[s],
                    dashes[r],
                ));
            }
        }
        for ((n, instance), dollars) in ENSEMBLES.iter().zip(&self.ensembles) {
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#555" stroke-width="1.5"/><text x="{:.1}" y="{:.1}" fill="#555">ZooKeeper {n}×{instance}</text>"##,
                W - RIGHT,
                y(*dollars),
                y(*dollars),
                LEFT + 4.0,
                y(*dollars) - 4.0
            );
        }
        for (i, (label, colour, dash)) in legend.iter().enumerate() {
            let ly = TOP + 10.0 + 18.0 * i as f64;
            let lx = W - RIGHT + 12.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{lx:.1}" x2="{:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}">{label}</text>"#,
                lx + 28.0,
                lx + 34.0,
                ly + 4.0
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// `1000000` → `1,000,000`.
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn money_label(v: f64) -> String {
    if v >= 1.0 {
        thousands(v)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(100_000.0), "100,000");
        assert_eq!(thousands(5_000_000.0), "5,000,000");
        assert_eq!(thousands(999.0), "999");
    }

    #[test]
    fn the_grid_has_every_workload_and_the_ensembles_prices() {
        let prices = Prices::us_east_1();
        let grid = compute(&Profile::committed(), &prices).unwrap();
        assert_eq!(grid.rows.len(), REQUESTS_PER_DAY.len() * READ_RATIOS.len());
        assert!((grid.ensembles[0] - 45.552).abs() < 1e-9);
        // 9 × $0.0832 × 730 h.
        assert!((grid.ensembles[2] - 546.624).abs() < 1e-9);
        // More requests never cost less.
        for pair in grid.rows.windows(2) {
            if pair[0].workload.read_ratio == pair[1].workload.read_ratio {
                for s in 0..STORES.len() {
                    assert!(pair[1].stores[s] > pair[0].stores[s]);
                }
            }
        }
        let svg = grid.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 9);
    }
}
