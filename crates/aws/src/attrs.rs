//! DynamoDB attribute values: building them and reading them back, with
//! the eleven `Stat` fields under their ZooKeeper names.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use fk_core::Stat;

use crate::errors::{malformed, DYNAMODB};
use fk_core::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The `Stat` attribute names, in `Stat`'s field order.
pub(crate) const STAT_FIELDS: [&str; 11] = [
    "czxid",
    "mzxid",
    "ctime",
    "mtime",
    "version",
    "cversion",
    "aversion",
    "ephemeralOwner",
    "dataLength",
    "numChildren",
    "pzxid",
];

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string set; `None` for an empty one, which DynamoDB cannot store.
pub(crate) fn ss<I: IntoIterator<Item = String>>(values: I) -> Option<AttributeValue> {
    let values: Vec<String> = values.into_iter().collect();
    (!values.is_empty()).then_some(AttributeValue::Ss(values))
}

/// `stat`'s fields as `(name, N)` pairs.
pub(crate) fn stat_values(stat: &Stat) -> [(&'static str, AttributeValue); 11] {
    let values: [i64; 11] = [
        stat.czxid,
        stat.mzxid,
        stat.ctime,
        stat.mtime,
        stat.version.into(),
        stat.cversion.into(),
        stat.aversion.into(),
        stat.ephemeral_owner,
        stat.data_length.into(),
        stat.num_children.into(),
        stat.pzxid,
    ];
    let mut pairs = STAT_FIELDS.map(|name| (name, n(0)));
    for (pair, value) in pairs.iter_mut().zip(values) {
        pair.1 = n(value);
    }
    pairs
}

/// `stat` as one map attribute.
#[cfg_attr(not(feature = "dynamodb"), allow(dead_code))]
pub(crate) fn stat_map(stat: &Stat) -> AttributeValue {
    AttributeValue::M(
        stat_values(stat)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// The `Stat` held in `item`'s top-level attributes; `None` if `czxid` is
/// absent (the node does not exist).
pub(crate) fn stat_from(item: &Item) -> Result<Option<Stat>, StoreError> {
    if !item.contains_key(STAT_FIELDS[0]) {
        return Ok(None);
    }
    let mut v = [0i64; 11];
    for (slot, name) in v.iter_mut().zip(STAT_FIELDS) {
        *slot = required_n(item, name)?;
    }
    let small = |x: i64, name: &str| {
        i32::try_from(x).map_err(|_| malformed(DYNAMODB, format!("{name} = {x} is out of range")))
    };
    Ok(Some(Stat {
        czxid: v[0],
        mzxid: v[1],
        ctime: v[2],
        mtime: v[3],
        version: small(v[4], "version")?,
        cversion: small(v[5], "cversion")?,
        aversion: small(v[6], "aversion")?,
        ephemeral_owner: v[7],
        data_length: small(v[8], "dataLength")?,
        num_children: small(v[9], "numChildren")?,
        pzxid: v[10],
    }))
}

/// The `Stat` held in the map attribute `name`.
#[cfg_attr(not(feature = "dynamodb"), allow(dead_code))]
pub(crate) fn stat_from_map(item: &Item, name: &str) -> Result<Stat, StoreError> {
    match item.get(name) {
        Some(AttributeValue::M(map)) => {
            stat_from(map)?.ok_or_else(|| malformed(DYNAMODB, format!("{name} has no czxid")))
        }
        _ => Err(malformed(
            DYNAMODB,
            format!("{name} is missing or not a map"),
        )),
    }
}

pub(crate) fn opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v)),
        Some(_) => Err(malformed(DYNAMODB, format!("{name} is not a string"))),
    }
}

pub(crate) fn opt_n(item: &Item, name: &str) -> Result<Option<i64>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| malformed(DYNAMODB, format!("{name} = {v} is not an integer"))),
        Some(_) => Err(malformed(DYNAMODB, format!("{name} is not a number"))),
    }
}

pub(crate) fn required_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    opt_n(item, name)?.ok_or_else(|| malformed(DYNAMODB, format!("{name} is missing")))
}

pub(crate) fn string_set(item: &Item, name: &str) -> Result<Vec<String>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(Vec::new()),
        Some(AttributeValue::Ss(v)) => Ok(v.clone()),
        Some(_) => Err(malformed(DYNAMODB, format!("{name} is not a string set"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_round_trips_through_attributes_and_a_map() {
        let stat = Stat {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: 0x7fff_ffff_ffff_fff1,
            data_length: 9,
            num_children: 10,
            pzxid: 11,
        };
        let item: Item = stat_values(&stat)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(stat_from(&item).unwrap(), Some(stat));
        let wrapped: Item = [("stat".to_string(), stat_map(&stat))].into();
        assert_eq!(stat_from_map(&wrapped, "stat").unwrap(), stat);
    }

    #[test]
    fn an_item_without_czxid_has_no_stat() {
        let item: Item = [("lockToken".to_string(), s("t"))].into();
        assert_eq!(stat_from(&item).unwrap(), None);
    }
}
