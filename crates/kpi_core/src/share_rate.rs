//! State of the share KPIs (escalation rate and every other "% of cases that ..."):
//! how many non-NULL inputs were seen and how many of them were TRUE.
//!
//! The state has a fixed size, so the extension keeps it as a 16-byte SQL value that the
//! transition function updates in place.

use crate::error::{checked_sum, KpiError, MAX_COUNT};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[repr(C)]
pub struct Share {
    /// Inputs that were TRUE.
    pub hits: i64,
    /// Non-NULL inputs.
    pub total: i64,
}

/// Size of the binary form: two big-endian 64-bit counters.
pub const SHARE_BYTES: usize = 16;

impl Share {
    #[inline]
    pub fn add(&mut self, hit: bool) -> Result<(), KpiError> {
        self.total = checked_sum(self.total, 1)?;
        self.hits += hit as i64;
        Ok(())
    }

    /// Takes back one input added earlier (moving-window aggregates).
    #[inline]
    pub fn remove(&mut self, hit: bool) -> Result<(), KpiError> {
        if self.total - self.hits < (!hit) as i64 || self.hits < hit as i64 {
            return Err(KpiError::nothing_to_take_back());
        }
        self.total -= 1;
        self.hits -= hit as i64;
        Ok(())
    }

    pub fn merge(&mut self, other: &Share) -> Result<(), KpiError> {
        let total = checked_sum(self.total, other.total)?;
        self.hits = checked_sum(self.hits, other.hits)?;
        self.total = total;
        Ok(())
    }

    pub fn check(self) -> Result<Self, KpiError> {
        if self.total < 0 || self.hits < 0 || self.hits > self.total || self.total > MAX_COUNT {
            return Err(KpiError::invalid_text(format!(
                "invalid share state: hits {} of total {}",
                self.hits, self.total
            ))
            .with_hint("A share state needs 0 <= hits <= total <= 72057594037927935."));
        }
        Ok(self)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("two integers always serialize")
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        let share: Share = serde_json::from_str(text).map_err(|e| {
            KpiError::invalid_text(format!(
                "invalid share state \"{}\": {e}",
                crate::error::excerpt(text),
                e = crate::error::excerpt(&e.to_string())
            ))
            .with_hint("Write it as {\"hits\": 3, \"total\": 120}.")
        })?;
        share.check()
    }

    pub fn to_bytes(&self) -> [u8; SHARE_BYTES] {
        let mut out = [0u8; SHARE_BYTES];
        out[..8].copy_from_slice(&self.hits.to_be_bytes());
        out[8..].copy_from_slice(&self.total.to_be_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        if bytes.len() != SHARE_BYTES {
            return Err(KpiError::invalid_binary(format!(
                "invalid binary share state: {} bytes, expected {SHARE_BYTES}",
                bytes.len()
            )));
        }
        let hits = i64::from_be_bytes(bytes[..8].try_into().unwrap());
        let total = i64::from_be_bytes(bytes[8..].try_into().unwrap());
        Share { hits, total }
            .check()
            .map_err(|e| KpiError::invalid_binary(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_hits_among_inputs() {
        let mut s = Share::default();
        for hit in [true, false, false, true, false] {
            s.add(hit).unwrap();
        }
        assert_eq!(s, Share { hits: 2, total: 5 });
        s.remove(true).unwrap();
        assert_eq!(s, Share { hits: 1, total: 4 });
    }

    #[test]
    fn merge_adds_counters_and_refuses_overflow() {
        let mut a = Share { hits: 1, total: 3 };
        a.merge(&Share { hits: 2, total: 4 }).unwrap();
        assert_eq!(a, Share { hits: 3, total: 7 });
        let mut big = Share {
            hits: 0,
            total: crate::error::MAX_COUNT,
        };
        assert!(big.merge(&Share { hits: 0, total: 1 }).is_err());
        assert!(big.add(false).is_err());
        // counts stay below the high byte, which holds the layout's format byte
        assert_eq!(crate::error::layout_byte(big.hits), 0);
        assert!(Share::from_text(r#"{"hits":0,"total":72057594037927936}"#).is_err());
        assert!(Share::from_bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert_eq!(crate::error::layout_byte(1 << 56), 1);
    }

    #[test]
    fn text_and_bytes_round_trip() {
        let s = Share {
            hits: 12,
            total: 345,
        };
        assert_eq!(s.to_text(), r#"{"hits":12,"total":345}"#);
        assert_eq!(Share::from_text(&s.to_text()).unwrap(), s);
        assert_eq!(Share::from_bytes(&s.to_bytes()).unwrap(), s);
    }

    #[test]
    fn rejects_impossible_states() {
        assert!(Share::from_text(r#"{"hits":5,"total":4}"#).is_err());
        assert!(Share::from_text(r#"{"hits":-1,"total":4}"#).is_err());
        assert!(Share::from_text("(1,2)").is_err());
        assert!(Share::from_text(r#"{"hits":1}"#).is_err());
        assert!(Share::from_bytes(&[0u8; 3]).is_err());
    }
}
