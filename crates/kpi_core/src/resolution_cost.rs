//! State of the cost KPIs: the exact total of the costs given, the number of costs given and
//! the number of resolved complaints. complaint_resolution_cost = total / resolved;
//! cost_per_complaint = total / costs given.
//!
//! Costs arrive as PostgreSQL `numeric`. They are summed exactly as integers of the smallest
//! unit seen so far (0.01 for cents, 0.001 for a cost given with three decimals, ...), which
//! is what `sum(numeric)` does: its result keeps the largest scale of its inputs. The total
//! goes back to PostgreSQL as numeric text, so the division is PostgreSQL's own.

use crate::codec::{put_i64, put_u8, Reader, BINARY_FORMAT};
use crate::error::{checked_sum, input_error, KpiError, KpiErrorKind, MAX_COUNT};
use serde::{Deserialize, Serialize};

/// Size of the SQL value: two counts, scale and the i128 total in two halves.
pub const COST_BYTES: usize = 40;

/// An exact decimal: `units * 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub units: i128,
    pub scale: u32,
}

fn too_large() -> KpiError {
    input_error(
        KpiErrorKind::OutOfRange,
        "cost total out of range".into(),
        "The total of the costs must stay below 1e38 in its smallest unit.",
    )
}

impl Decimal {
    /// The same value with `scale` decimals (`scale >= self.scale`).
    pub fn rescaled(self, scale: u32) -> Result<Decimal, KpiError> {
        let factor = 10i128
            .checked_pow(scale - self.scale)
            .ok_or_else(too_large)?;
        let units = self.units.checked_mul(factor).ok_or_else(too_large)?;
        Ok(Decimal { units, scale })
    }

    /// Decodes PostgreSQL's in-memory `numeric` (the varlena payload after its length
    /// header, native byte order): base-10000 digits with a weight, a sign and a display
    /// scale. NaN and infinities are refused, as too large values are.
    pub fn from_numeric(payload: &[u8]) -> Result<Decimal, KpiError> {
        let word = |i: usize| -> u16 { u16::from_ne_bytes([payload[i], payload[i + 1]]) };
        if payload.len() < 2 {
            return Err(KpiError::invalid_binary("numeric value is truncated"));
        }
        let header = word(0);
        let (negative, scale, weight, digits_at) = match header & 0xC000 {
            0xC000 => {
                return Err(input_error(
                    KpiErrorKind::OutOfRange,
                    format!("cost {} is not a finite number", special_name(header)),
                    "Costs are finite amounts of money; leave unknown costs NULL.",
                ))
            }
            0x8000 => {
                // Short format: sign, display scale and weight packed into the header.
                let weight = (header & 0x3F) as i32 - if header & 0x40 != 0 { 64 } else { 0 };
                (
                    header & 0x2000 != 0,
                    ((header & 0x1F80) >> 7) as u32,
                    weight,
                    2,
                )
            }
            sign => {
                if payload.len() < 4 {
                    return Err(KpiError::invalid_binary("numeric value is truncated"));
                }
                let weight = word(2) as i16 as i32;
                (sign == 0x4000, (header & 0x3FFF) as u32, weight, 4)
            }
        };
        // Runs on every row: no allocation, one multiply-add per base-10000 digit.
        let mut units: i128 = 0;
        let mut n_digits = 0i32;
        for c in payload[digits_at..].chunks_exact(2) {
            let digit = u16::from_ne_bytes([c[0], c[1]]) as i128;
            units = units
                .checked_mul(10_000)
                .and_then(|u| u.checked_add(digit))
                .ok_or_else(too_large)?;
            n_digits += 1;
        }
        // units * 10000^(weight - n + 1) is the value; bring it to `scale` decimals.
        let exponent = 4 * (weight - n_digits + 1) + scale as i32;
        if units != 0 && exponent >= 0 {
            let factor = 10i128.checked_pow(exponent as u32).ok_or_else(too_large)?;
            units = units.checked_mul(factor).ok_or_else(too_large)?;
        } else if units != 0 {
            // Digits beyond the display scale are zero in a valid numeric.
            units /= 10i128
                .checked_pow((-exponent) as u32)
                .ok_or_else(too_large)?;
        }
        Ok(Decimal {
            units: if negative { -units } else { units },
            scale,
        })
    }

    /// Parses `-12.340` style text, keeping the scale as written.
    pub fn from_text(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty()
            || !(int_part.bytes().chain(frac_part.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let units: i128 = format!("{int_part}{frac_part}").parse().ok()?;
        Some(Decimal {
            units: if negative { -units } else { units },
            scale: frac_part.len() as u32,
        })
    }

    /// Numeric text with exactly `scale` decimals, e.g. `1234.50`.
    pub fn to_text(&self) -> String {
        let digits = self.units.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        let sign = if self.units < 0 { "-" } else { "" };
        if scale == 0 {
            format!("{sign}{int_part}")
        } else {
            format!("{sign}{int_part}.{frac_part}")
        }
    }
}

fn special_name(header: u16) -> &'static str {
    match header {
        0xD000 => "Infinity",
        0xF000 => "-Infinity",
        _ => "NaN",
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CostTotal {
    /// Resolved complaints: the denominator.
    pub resolved: i64,
    /// Costs added (non-NULL): without any, the cost is unknown (NULL), not 0.
    pub costs: i64,
    /// Decimals of the total: the largest scale of the costs added.
    scale: i64,
    /// The total in units of 10^-scale, as two halves of an i128 (8-byte alignment).
    sum_hi: i64,
    sum_lo: u64,
}

impl CostTotal {
    pub fn total(&self) -> Decimal {
        Decimal {
            units: ((self.sum_hi as i128) << 64) | self.sum_lo as i128,
            scale: self.scale as u32,
        }
    }

    fn set_total(&mut self, d: Decimal) {
        self.scale = d.scale as i64;
        self.sum_hi = (d.units >> 64) as i64;
        self.sum_lo = d.units as u64;
    }

    pub fn from_parts(resolved: i64, costs: i64, total: Decimal) -> Result<Self, KpiError> {
        let mut c = CostTotal {
            resolved,
            costs,
            ..Default::default()
        };
        c.set_total(total);
        c.check()
    }

    /// Adds one cost; a negative cost is a data error.
    pub fn add_cost(&mut self, cost: Decimal) -> Result<(), KpiError> {
        if cost.units < 0 {
            return Err(input_error(
                KpiErrorKind::OutOfRange,
                format!("cost {} is negative", cost.to_text()),
                "A cost is an amount spent, zero or more. Book refunds or credits elsewhere, \
                 or leave such rows out with FILTER (WHERE cost >= 0).",
            ));
        }
        self.set_total(add_decimals(self.total(), cost)?);
        self.costs = checked_sum(self.costs, 1)?;
        Ok(())
    }

    pub fn add_resolved(&mut self) -> Result<(), KpiError> {
        self.resolved = checked_sum(self.resolved, 1)?;
        Ok(())
    }

    pub fn merge(&mut self, other: &CostTotal) -> Result<(), KpiError> {
        self.resolved = checked_sum(self.resolved, other.resolved)?;
        self.costs = checked_sum(self.costs, other.costs)?;
        self.set_total(add_decimals(self.total(), other.total())?);
        Ok(())
    }

    fn check(self) -> Result<Self, KpiError> {
        if !(0..=38).contains(&self.scale) {
            return Err(KpiError::invalid_text(format!(
                "invalid cost state: scale {} is not between 0 and 38",
                self.scale
            ))
            .with_hint("A cost total has at most 38 decimals."));
        }
        let no_costs_but_total = self.costs == 0 && self.total().units != 0;
        if self.resolved < 0
            || self.costs < 0
            || self.resolved > MAX_COUNT
            || self.costs > MAX_COUNT
            || self.total().units < 0
            || no_costs_but_total
            || !(0..=38).contains(&self.scale)
        {
            return Err(KpiError::invalid_text(format!(
                "invalid cost state: {} resolved, {} costs, total {}",
                self.resolved,
                self.costs,
                self.total().to_text()
            ))
            .with_hint(
                "A cost state needs non-negative counts and total, and no total without costs.",
            ));
        }
        Ok(self)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(&CostText {
            resolved: self.resolved,
            costs: self.costs,
            total_cost: self.total().to_text(),
        })
        .expect("integers and strings always serialize")
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        let bad = |why: String| {
            KpiError::invalid_text(format!(
                "invalid cost state \"{}\": {why}",
                crate::error::excerpt(text)
            ))
            .with_hint("Write it as {\"resolved\": 3, \"costs\": 4, \"total_cost\": \"1250.00\"}.")
        };
        let t: CostText =
            serde_json::from_str(text).map_err(|e| bad(crate::error::excerpt(&e.to_string())))?;
        let total = Decimal::from_text(&t.total_cost)
            .filter(|d| d.scale <= 38)
            .ok_or_else(|| {
                bad(format!(
                    "\"{}\" is not a decimal number",
                    crate::error::excerpt(&t.total_cost)
                ))
            })?;
        Self::from_parts(t.resolved, t.costs, total)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + COST_BYTES);
        put_u8(&mut out, BINARY_FORMAT);
        put_i64(&mut out, self.resolved);
        put_i64(&mut out, self.costs);
        put_i64(&mut out, self.scale);
        out.extend_from_slice(&self.total().units.to_be_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let resolved = r.i64()?;
        let costs = r.i64()?;
        let scale = r.i64()?;
        let units = i128::from_be_bytes(r.take(16)?.try_into().unwrap());
        r.finish()?;
        let scale = u32::try_from(scale)
            .ok()
            .filter(|s| *s <= 38)
            .ok_or_else(|| KpiError::invalid_binary(format!("invalid cost scale {scale}")))?;
        Self::from_parts(resolved, costs, Decimal { units, scale })
            .map_err(|e| KpiError::invalid_binary(e.message))
    }
}

fn add_decimals(a: Decimal, b: Decimal) -> Result<Decimal, KpiError> {
    if a.scale == b.scale {
        // the common case: every cost has the column's scale
        let units = a.units.checked_add(b.units).ok_or_else(too_large)?;
        return Ok(Decimal {
            units,
            scale: a.scale,
        });
    }
    let scale = a.scale.max(b.scale);
    let (a, b) = (a.rescaled(scale)?, b.rescaled(scale)?);
    let units = a.units.checked_add(b.units).ok_or_else(too_large)?;
    Ok(Decimal { units, scale })
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CostText {
    resolved: i64,
    costs: i64,
    total_cost: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_text(text).unwrap()
    }

    /// PostgreSQL's long numeric format, built by hand: header, weight, base-10000 digits.
    fn long_numeric(negative: bool, dscale: u16, weight: i16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((if negative { 0x4000 } else { 0 }) | dscale).to_ne_bytes());
        out.extend_from_slice(&weight.to_ne_bytes());
        for d in digits {
            out.extend_from_slice(&d.to_ne_bytes());
        }
        out
    }

    #[test]
    fn decodes_numeric_formats() {
        // 1234.5600 -> digits [1234, 5600], weight 0, dscale 4
        assert_eq!(
            Decimal::from_numeric(&long_numeric(false, 4, 0, &[1234, 5600])).unwrap(),
            dec("1234.5600")
        );
        // 120000 -> digits [12], weight 1, dscale 0
        assert_eq!(
            Decimal::from_numeric(&long_numeric(false, 0, 1, &[12])).unwrap(),
            dec("120000")
        );
        // -0.05 -> digits [500], weight -1, dscale 2
        assert_eq!(
            Decimal::from_numeric(&long_numeric(true, 2, -1, &[500])).unwrap(),
            dec("-0.05")
        );
        // short format: 12.5 (dscale 1, weight 0, digits [12, 5000])
        let mut short = (0x8000u16 | (1 << 7)).to_ne_bytes().to_vec();
        for d in [12u16, 5000] {
            short.extend_from_slice(&d.to_ne_bytes());
        }
        assert_eq!(Decimal::from_numeric(&short).unwrap(), dec("12.5"));
        // zero with scale 2 has no digits
        assert_eq!(
            Decimal::from_numeric(&(0x8000u16 | (2 << 7)).to_ne_bytes()).unwrap(),
            dec("0.00")
        );
        assert!(Decimal::from_numeric(&0xC000u16.to_ne_bytes()).is_err());
    }

    #[test]
    fn totals_keep_the_largest_scale() {
        let mut c = CostTotal::default();
        c.add_cost(dec("10.5")).unwrap();
        c.add_cost(dec("0.125")).unwrap();
        c.add_cost(dec("3")).unwrap();
        c.add_resolved().unwrap();
        assert_eq!(c.total().to_text(), "13.625");
        let mut d = CostTotal::default();
        d.add_cost(dec("1.00000")).unwrap();
        d.merge(&c).unwrap();
        assert_eq!(d.total().to_text(), "14.62500");
        assert_eq!((d.resolved, d.costs), (1, 4));
    }

    #[test]
    fn negative_costs_and_overflow_are_refused() {
        let mut c = CostTotal::default();
        let e = c.add_cost(dec("-4.50")).unwrap_err();
        assert_eq!(e.kind, KpiErrorKind::OutOfRange);
        assert!(e.message.contains("-4.50"));
        assert!(c
            .add_cost(Decimal {
                units: 1,
                scale: 60
            })
            .is_err());
    }

    #[test]
    fn text_and_bytes_round_trip() {
        let c = CostTotal::from_parts(3, 4, dec("1250.00")).unwrap();
        assert_eq!(
            c.to_text(),
            r#"{"resolved":3,"costs":4,"total_cost":"1250.00"}"#
        );
        assert_eq!(CostTotal::from_text(&c.to_text()).unwrap(), c);
        assert_eq!(CostTotal::from_bytes(&c.to_bytes()).unwrap(), c);
        assert_eq!(dec("0.07").to_text(), "0.07");
        assert!(CostTotal::from_text(r#"{"resolved":3,"costs":1,"total_cost":"-1"}"#).is_err());
        assert!(CostTotal::from_text(r#"{"resolved":3,"costs":1,"total_cost":"1e5"}"#).is_err());
        assert!(CostTotal::from_text(r#"{"resolved":3,"costs":0,"total_cost":"5"}"#).is_err());
    }
}
