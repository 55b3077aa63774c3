//! Session identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A client session, numbered as ZooKeeper numbers them (a positive `i64`,
/// shown in hex). It is the `ephemeralOwner` of the session's ephemeral nodes
/// and the FIFO message group of its writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct SessionId(i64);

impl SessionId {
    /// A fresh random session id.
    pub fn random() -> Self {
        // 62 random bits: positive, and never 0 (0 means "not ephemeral").
        let n = rand::random::<u64>() >> 2;
        SessionId((n | 1) as i64)
    }

    pub fn from_raw(raw: i64) -> Option<Self> {
        (raw > 0).then_some(SessionId(raw))
    }

    pub fn raw(self) -> i64 {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:016x}", self.0)
    }
}

impl FromStr for SessionId {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix("0x").ok_or(crate::Error::BadArguments)?;
        let raw = i64::from_str_radix(hex, 16).map_err(|_| crate::Error::BadArguments)?;
        SessionId::from_raw(raw).ok_or(crate::Error::BadArguments)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for SessionId {
    type Error = crate::Error;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_hex_form() {
        let id = SessionId::random();
        assert!(id.raw() > 0);
        let text = id.to_string();
        assert_eq!(text.len(), 18);
        assert_eq!(text.parse::<SessionId>().unwrap(), id);
    }

    #[test]
    fn rejects_garbage() {
        assert!("12".parse::<SessionId>().is_err());
        assert!("0x0000000000000000".parse::<SessionId>().is_err());
        assert!("0xzz".parse::<SessionId>().is_err());
    }
}
