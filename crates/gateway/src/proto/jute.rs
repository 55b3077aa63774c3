//! Jute, ZooKeeper's record encoding: big-endian integers, a one-byte
//! boolean, length-prefixed byte buffers and UTF-8 strings (length `-1`
//! is null), length-prefixed vectors.
//!
//! Null and empty are kept apart where a client can send either (data
//! buffers), so that a decoded frame encodes back to the same bytes.

/// Why bytes are not the record they should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the frame ends inside {0}")]
    Truncated(&'static str),
    #[error("a negative length {0} where null is not allowed")]
    BadLength(i32),
    #[error("a string that is not UTF-8")]
    NotUtf8,
    #[error("a boolean byte {0}")]
    BadBool(u8),
    #[error("{0} bytes left after the record")]
    TrailingBytes(usize),
    #[error("unknown {what} {value}")]
    Unknown { what: &'static str, value: i32 },
}

/// Reads jute values from a frame's bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub fn int(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4, "an int")?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn long(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8, "a long")?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.take(1, "a boolean")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::BadBool(other)),
        }
    }

    /// A buffer; `None` for null (length -1).
    pub fn buffer(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let len = self.int()?;
        if len < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(len as usize, "a buffer")?.to_vec()))
    }

    /// A string; null reads as empty (no record we read tells them apart).
    pub fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.int()?;
        if len < 0 {
            return Ok(String::new());
        }
        let bytes = self.take(len as usize, "a string")?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::NotUtf8)
    }

    /// A vector of records; null reads as empty.
    pub fn vec<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let len = self.int()?;
        // Each item is at least one byte: a length beyond the frame is a
        // malformed frame, not an allocation to make.
        if len > 0 && len as usize > self.buf.len() {
            return Err(DecodeError::Truncated("a vector"));
        }
        (0..len.max(0)).map(|_| item(self)).collect()
    }

    pub fn strings(&mut self) -> Result<Vec<String>, DecodeError> {
        self.vec(Reader::string)
    }
}

/// Writes jute values into a frame's bytes.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn int(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn long(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.buf.push(v as u8);
        self
    }

    pub fn buffer(&mut self, v: Option<&[u8]>) -> &mut Self {
        match v {
            None => self.int(-1),
            Some(bytes) => {
                self.int(bytes.len() as i32);
                self.buf.extend_from_slice(bytes);
                self
            }
        }
    }

    /// Bytes as they are (an opaque body).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    pub fn string(&mut self, v: &str) -> &mut Self {
        self.buffer(Some(v.as_bytes()))
    }

    pub fn strings(&mut self, v: &[String]) -> &mut Self {
        self.int(v.len() as i32);
        for s in v {
            self.string(s);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written() {
        let mut w = Writer::new();
        w.int(-7)
            .long(1 << 40)
            .bool(true)
            .buffer(None)
            .buffer(Some(b""))
            .string("/a/ü")
            .strings(&["x".into(), "y".into()]);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.int().unwrap(), -7);
        assert_eq!(r.long().unwrap(), 1 << 40);
        assert!(r.bool().unwrap());
        assert_eq!(r.buffer().unwrap(), None);
        assert_eq!(r.buffer().unwrap(), Some(vec![]));
        assert_eq!(r.string().unwrap(), "/a/ü");
        assert_eq!(r.strings().unwrap(), vec!["x", "y"]);
        r.finish().unwrap();
    }

    #[test]
    fn a_vector_longer_than_the_frame_is_refused_without_allocating() {
        let mut w = Writer::new();
        w.int(i32::MAX);
        let bytes = w.into_bytes();
        assert_eq!(
            Reader::new(&bytes).strings().unwrap_err(),
            DecodeError::Truncated("a vector")
        );
    }

    #[test]
    fn a_truncated_int_is_an_error() {
        assert_eq!(
            Reader::new(&[0, 0, 1]).int().unwrap_err(),
            DecodeError::Truncated("an int")
        );
    }
}
