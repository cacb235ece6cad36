//! Byte-level helpers for the binary form of states: big-endian integers, as PostgreSQL's
//! send/receive functions use, and a reader that reports truncated input instead of panicking.

use crate::error::KpiError;
use std::io::Write;

/// Version byte at the start of every variable-length binary state, so that a later release
/// can read states written by this one (stored summaries, states in flight between servers).
///
/// Two kinds of version byte, named alike in every module: `BINARY_FORMAT`, the version of a
/// state's binary form (send/receive, `COPY ... BINARY`; big-endian, as PostgreSQL's), and
/// `LAYOUT` (or `DENSE_LAYOUT`/`SPARSE_LAYOUT`), the version of a growing state's stored
/// layout, the bytes PostgreSQL keeps on disk (little-endian in every module: `flat.rs`,
/// `percentiles.rs`, `status_history.rs`).
pub const BINARY_FORMAT: u8 = 1;

/// PostgreSQL's 4-byte varlena header, counted when sizing a flat state's allocation.
pub const VARHDR: usize = 4;

/// The payload length (at least `len`) of a varlena that fills the power-of-two chunk
/// PostgreSQL's allocator rounds a small request up to: the room a growing flat state can
/// take at no extra memory.
pub fn filled_payload(len: usize) -> usize {
    (len + VARHDR).next_power_of_two() - VARHDR
}

pub fn put_u8(w: &mut impl Write, v: u8) {
    w.write_all(&[v])
        .expect("state buffer sized by encoded_len");
}

pub fn put_u32(w: &mut impl Write, v: u32) {
    w.write_all(&v.to_be_bytes())
        .expect("state buffer sized by encoded_len");
}

pub fn put_i64(w: &mut impl Write, v: i64) {
    w.write_all(&v.to_be_bytes())
        .expect("state buffer sized by encoded_len");
}

pub fn put_bytes(w: &mut impl Write, v: &[u8]) {
    w.write_all(v).expect("state buffer sized by encoded_len");
}

/// Length prefix of a variable-length item; PostgreSQL values are below 1 GB, so 32 bits suffice.
pub fn put_len(w: &mut impl Write, len: usize) {
    put_u32(
        w,
        u32::try_from(len).expect("a PostgreSQL value is below 1 GB"),
    );
}

pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], KpiError> {
        if self.bytes.len() < n {
            return Err(KpiError::invalid_binary("binary KPI state is truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, KpiError> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32, KpiError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    pub fn i64(&mut self) -> Result<i64, KpiError> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A count of items that follow, each at least `min_item_bytes` long; checked against the
    /// bytes left so that a corrupt count cannot make us reserve absurd amounts of memory.
    pub fn count(&mut self, min_item_bytes: usize) -> Result<usize, KpiError> {
        let n = self.i64()?;
        let fits = usize::try_from(n)
            .ok()
            .filter(|n| n.saturating_mul(min_item_bytes.max(1)) <= self.bytes.len());
        fits.ok_or_else(|| {
            KpiError::invalid_binary(format!("binary KPI state has an invalid item count {n}"))
        })
    }

    pub fn version(&mut self) -> Result<(), KpiError> {
        match self.u8()? {
            BINARY_FORMAT => Ok(()),
            v => Err(
                KpiError::invalid_binary(format!("unsupported KPI state format version {v}"))
                    .with_hint(
                        "The state was written by a newer support_kpi; upgrade the extension.",
                    ),
            ),
        }
    }

    pub fn finish(self) -> Result<(), KpiError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(KpiError::invalid_binary(format!(
                "binary KPI state has {} unexpected trailing bytes",
                self.bytes.len()
            )))
        }
    }
}
