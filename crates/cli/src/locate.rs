//! Finding the deployment document.

use std::path::{Path, PathBuf};

use fk_aws::deployment::Deployment;

/// The file `make run` writes, looked for here and in every parent.
const DEFAULT: &str = ".fk/deployment.json";

/// Loads the deployment from `explicit`, or the nearest `.fk/deployment.json`.
pub fn deployment(explicit: Option<&Path>) -> Result<Deployment, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => nearest_default().ok_or_else(|| {
            format!("no deployment: pass --deployment FILE, set FK_DEPLOYMENT, or run `make run` (it writes {DEFAULT})")
        })?,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Deployment::from_json(&text)
        .map_err(|e| format!("{} is not a deployment document: {e}", path.display()))
}

fn nearest_default() -> Option<PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join(DEFAULT);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}
