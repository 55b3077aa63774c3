//! Where a command's data comes from: its argument, `--data-file FILE`,
//! or standard input (`--data-file -`, one-shot mode only: a script and
//! the shell read their commands there).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::{Failure, Stdin};

/// The data of `create`, `set` or a multi step: the argument if given,
/// else the file's bytes, else empty.
pub fn resolve(
    argument: Option<String>,
    file: Option<PathBuf>,
    stdin: Stdin,
) -> Result<Vec<u8>, Failure> {
    match (argument, file) {
        (Some(text), _) => Ok(text.into_bytes()),
        (None, Some(file)) => read(&file, stdin),
        (None, None) => Ok(Vec::new()),
    }
}

fn read(file: &Path, stdin: Stdin) -> Result<Vec<u8>, Failure> {
    if file == Path::new("-") {
        return match stdin {
            Stdin::Free => {
                let mut data = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut data)
                    .map_err(|e| Failure::Usage(format!("reading standard input: {e}")))?;
                Ok(data)
            }
            Stdin::Commands => Err(Failure::Usage(
                "--data-file -: standard input holds the commands here; name a file".into(),
            )),
        };
    }
    std::fs::read(file).map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_wins_then_the_file_then_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d");
        std::fs::write(&file, b"\x00from file").unwrap();

        let given = resolve(Some("arg".into()), None, Stdin::Commands).unwrap();
        let from_file = resolve(None, Some(file), Stdin::Commands).unwrap();
        let none = resolve(None, None, Stdin::Commands).unwrap();

        assert_eq!(given, b"arg");
        assert_eq!(from_file, b"\x00from file");
        assert!(none.is_empty());
    }

    #[test]
    fn standard_input_is_refused_where_it_holds_the_commands() {
        let refused = resolve(None, Some("-".into()), Stdin::Commands).unwrap_err();
        assert!(refused
            .message()
            .contains("standard input holds the commands"));
    }

    #[test]
    fn a_missing_file_is_named() {
        let failure = resolve(None, Some("/no/such/file".into()), Stdin::Free).unwrap_err();
        assert!(failure.message().contains("cannot read /no/such/file"));
    }
}
