//! ZooKeeper path rules (`PathUtils.validatePath`).

use crate::Error;

/// The root of the tree.
pub const ROOT: &str = "/";

/// The longest path, in bytes of UTF-8, that the service stores.
///
/// ZooKeeper bounds a path only by the request size; our stores key nodes
/// by path, and S3 keys (`n` + path) hold at most 1,024 bytes, DynamoDB
/// keys 2,048. A longer path is refused with `BadArguments` at once, by the
/// client and by the writer, rather than failing in a store.
pub const MAX_PATH_LEN: usize = 1000;

/// The digits a sequential create appends to its prefix.
pub const SEQUENTIAL_SUFFIX_LEN: usize = 10;

/// Checks a path as ZooKeeper does.
///
/// A path is absolute, has no trailing `/` (except the root itself), no empty,
/// `.` or `..` segment, and none of the characters ZooKeeper rejects (NUL,
/// control characters, surrogates and private-use code points). Java sees a
/// character outside the Basic Multilingual Plane as two surrogates, so
/// ZooKeeper rejects those too.
pub fn validate(path: &str) -> Result<(), Error> {
    validate_with(path, false)
}

/// Checks the path given to a sequential create, which ZooKeeper validates
/// with the sequence number already appended: `/a/` is a valid prefix.
pub fn validate_sequential_prefix(path: &str) -> Result<(), Error> {
    validate_with(path, true)
}

fn validate_with(path: &str, sequential: bool) -> Result<(), Error> {
    if !path.starts_with('/') {
        return Err(Error::BadArguments);
    }
    let suffix = if sequential { SEQUENTIAL_SUFFIX_LEN } else { 0 };
    if path.len() + suffix > MAX_PATH_LEN {
        return Err(Error::BadArguments);
    }
    if path == ROOT {
        return Ok(());
    }
    // A sequential prefix ending in '/' gets its name from the suffix.
    let body = if sequential && path.ends_with('/') {
        &path[1..]
    } else {
        if path.ends_with('/') {
            return Err(Error::BadArguments);
        }
        &path[1..]
    };
    let segments: Vec<&str> = body.split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let will_get_suffix = sequential && i == last;
        if segment.is_empty() && !will_get_suffix {
            return Err(Error::BadArguments);
        }
        if (*segment == "." || *segment == "..") && !will_get_suffix {
            return Err(Error::BadArguments);
        }
        if segment.chars().any(is_forbidden) {
            return Err(Error::BadArguments);
        }
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{001f}'
        | '\u{007f}'..='\u{009f}'
        | '\u{e000}'..='\u{f8ff}'
        | '\u{fff0}'..='\u{10ffff}')
}

/// The parent of a valid path other than the root.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => ROOT,
        Some(i) => &path[..i],
        None => ROOT,
    }
}

/// The last segment of a valid path other than the root.
pub fn name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Whether `path` is `ancestor` or lies below it.
pub fn is_within(path: &str, ancestor: &str) -> bool {
    ancestor == ROOT
        || path == ancestor
        || (path.starts_with(ancestor) && path.as_bytes().get(ancestor.len()) == Some(&b'/'))
}

/// Joins a parent path and a child name.
pub fn join(parent: &str, name: &str) -> String {
    if parent == ROOT {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The name ZooKeeper gives a sequential node: the prefix and the number
/// of children ever created under the parent, as `%010d`.
///
/// The parent's `cversion` counts creates and deletes alike, so the creates
/// are `(cversion + numChildren) / 2`; on a parent that never lost a child
/// that is the `cversion` itself.
pub fn sequential(prefix: &str, parent: &crate::Stat) -> String {
    let creates = (parent.cversion + parent.num_children) / 2;
    format!("{prefix}{creates:010}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_path_longer_than_the_limit_is_bad_arguments_and_one_at_it_is_valid() {
        let at_limit = format!("/{}", "a".repeat(MAX_PATH_LEN - 1));
        assert_eq!(validate(&at_limit), Ok(()));
        assert_eq!(validate(&format!("{at_limit}b")), Err(Error::BadArguments));
        let ten_kb = format!("/{}", "x".repeat(10_000));
        assert_eq!(validate(&ten_kb), Err(Error::BadArguments));
        // A sequential prefix leaves room for its ten digits.
        let prefix = format!("/{}", "q".repeat(MAX_PATH_LEN - SEQUENTIAL_SUFFIX_LEN - 1));
        assert_eq!(validate_sequential_prefix(&prefix), Ok(()));
        assert_eq!(
            validate_sequential_prefix(&format!("{prefix}q")),
            Err(Error::BadArguments)
        );
    }

    #[test]
    fn accepts_ordinary_paths() {
        for p in ["/", "/a", "/a/b", "/zookeeper", "/a.b", "/a/..b", "/ü"] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn rejects_what_zookeeper_rejects() {
        for p in [
            "",
            "a",
            "a/b",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\0b",
            "/a\u{1}",
            "/\u{7f}",
            "/\u{e000}",
            "/\u{fff5}",
        ] {
            assert_eq!(validate(p), Err(Error::BadArguments), "{p:?}");
        }
    }

    #[test]
    fn a_sequential_prefix_may_end_in_a_slash() {
        assert_eq!(validate_sequential_prefix("/a/"), Ok(()));
        assert_eq!(validate_sequential_prefix("/a/lock-"), Ok(()));
        assert_eq!(validate_sequential_prefix("/a//"), Err(Error::BadArguments));
        assert_eq!(validate("/a/"), Err(Error::BadArguments));
    }

    #[test]
    fn parent_and_name_split_the_last_segment() {
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b/c"), "/a/b");
        assert_eq!(name("/a/b/c"), "c");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
    }

    #[test]
    fn sequential_suffix_is_ten_digits_counting_creates_only() {
        let parent = |cversion, num_children| crate::Stat {
            cversion,
            num_children,
            ..crate::Stat::default()
        };
        assert_eq!(sequential("/q/job-", &parent(7, 7)), "/q/job-0000000007");
        assert_eq!(sequential("/q/", &parent(12345, 12345)), "/q/0000012345");
        // Three creates and two deletes: the next is the fourth create.
        assert_eq!(sequential("/q/n-", &parent(5, 1)), "/q/n-0000000003");
    }

    #[test]
    fn characters_outside_the_bmp_are_refused_as_java_sees_surrogates() {
        assert_eq!(validate("/🦀"), Err(Error::BadArguments));
        assert_eq!(validate("/a🦀b"), Err(Error::BadArguments));
    }

    proptest! {
        #[test]
        fn join_inverts_parent_and_name(segs in proptest::collection::vec("[a-z0-9_-]{1,8}", 1..5)) {
            let path = format!("/{}", segs.join("/"));
            prop_assert_eq!(validate(&path), Ok(()));
            prop_assert_eq!(join(parent(&path), name(&path)), path.clone());
        }
    }
}
