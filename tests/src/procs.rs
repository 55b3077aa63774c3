//! This process's child processes, from `/proc` (Linux).

/// A child process of this one.
#[derive(Debug, Clone)]
pub struct Child {
    pub pid: i32,
    /// The first 15 bytes of its binary's name (the kernel's `comm`).
    pub comm: String,
    /// The CPU it used so far, user and system, every thread, in seconds.
    pub cpu_s: f64,
}

impl Child {
    /// Whether it runs the binary `name` (compared as `comm` keeps it).
    pub fn runs(&self, name: &str) -> bool {
        self.comm.starts_with(&name[..name.len().min(15)])
    }
}

/// This process's children; none where `/proc` cannot be read.
pub fn children() -> Vec<Child> {
    // USER_HZ is 100 on Linux.
    const TICKS_PER_S: f64 = 100.0;
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces: split at the last ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = tail.split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse().ok()) != Some(me) {
            continue;
        }
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        out.push(Child {
            pid,
            comm: head.split_once('(').map_or("", |(_, c)| c).to_string(),
            cpu_s: (ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)) / TICKS_PER_S,
        });
    }
    out
}
