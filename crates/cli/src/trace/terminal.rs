//! The terminal's width, which the bars fill.

/// `$COLUMNS` when set, else the width of the terminal on standard output
/// or, when that is a pipe (`fk trace | less`), on standard error.
pub fn width() -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok();
    if let Some(columns) = columns
        .and_then(|c| c.trim().parse().ok())
        .filter(|c| *c > 0)
    {
        return Some(columns);
    }
    [libc::STDOUT_FILENO, libc::STDERR_FILENO]
        .into_iter()
        .find_map(width_of)
}

fn width_of(fd: libc::c_int) -> Option<usize> {
    // SAFETY: winsize is plain integers, for which zero is a value.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills the winsize it is given, which lives for
    // the call; on a descriptor that is no terminal it fails and writes
    // nothing.
    let answered = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    (answered && size.ws_col > 0).then_some(usize::from(size.ws_col))
}
