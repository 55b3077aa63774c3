//! Sequential child names: `<prefix><10 digits>`, ordered by their number.

use fk_client::{Client, Code, CreateMode, Error};

/// The sequence number of a sequential node's name, if it has one.
pub(crate) fn number(name: &str) -> Option<u64> {
    let digits = name.get(name.len().checked_sub(10)?..)?;
    digits.parse().ok()
}

/// `children` that carry a sequence number, ordered by it.
pub(crate) fn ordered(children: Vec<String>) -> Vec<(u64, String)> {
    let mut numbered: Vec<(u64, String)> = children
        .into_iter()
        .filter_map(|c| number(&c).map(|n| (n, c)))
        .collect();
    numbered.sort();
    numbered
}

/// The last component of `path`.
pub(crate) fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Creates `dir` and its missing parents as empty persistent nodes.
pub(crate) async fn ensure_dir(client: &Client, dir: &str) -> Result<(), Error> {
    if client.exists(dir).await?.is_some() {
        return Ok(());
    }
    let mut at = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        match client.create(&at, b"", CreateMode::Persistent).await {
            Ok(_) => {}
            Err(e) if e == Code::NodeExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_names_are_ordered_by_their_number_not_their_prefix() {
        let children = vec![
            "write-0000000003".to_string(),
            "read-0000000001".to_string(),
            "ready".to_string(),
            "read-0000000010".to_string(),
        ];
        assert_eq!(
            ordered(children),
            vec![
                (1, "read-0000000001".to_string()),
                (3, "write-0000000003".to_string()),
                (10, "read-0000000010".to_string()),
            ]
        );
    }

    #[test]
    fn a_name_without_ten_digits_has_no_number() {
        assert_eq!(number("ready"), None);
        assert_eq!(number("lock-12"), None);
        assert_eq!(number("lock-0000000042"), Some(42));
    }
}
