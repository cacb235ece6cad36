//! Errors a KPI state can raise. The extension maps each kind to a SQLSTATE.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiErrorKind {
    /// Malformed text representation of a state (SQLSTATE 22P02).
    InvalidText,
    /// Malformed binary representation of a state (SQLSTATE 22P03).
    InvalidBinary,
    /// Two states that cannot be merged, e.g. over different customer key types (42804).
    Mismatch,
    /// A counter would overflow (22003).
    Overflow,
    /// An input value outside the KPI's scale or domain: a survey score off its scale, a
    /// negative cost (22003).
    OutOfRange,
    /// An input that contradicts itself, e.g. a response before the case was opened (22023).
    InvalidValue,
    /// An infinite timestamp where a real point in time is needed (22008).
    DatetimeOutOfRange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiError {
    pub kind: KpiErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl KpiError {
    pub fn new(kind: KpiErrorKind, message: impl Into<String>) -> Self {
        KpiError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn invalid_text(message: impl Into<String>) -> Self {
        Self::new(KpiErrorKind::InvalidText, message)
    }

    pub fn invalid_binary(message: impl Into<String>) -> Self {
        Self::new(KpiErrorKind::InvalidBinary, message)
    }

    /// An inverse transition (moving windows) asked to take back an input the state never
    /// counted: only a direct call can do that.
    pub fn nothing_to_take_back() -> Self {
        Self::new(
            KpiErrorKind::InvalidValue,
            "the KPI state has no such input to take back",
        )
        .with_hint("An inverse transition function only takes back inputs its state counted.")
    }

    pub fn overflow() -> Self {
        Self::new(KpiErrorKind::Overflow, "KPI counter out of range")
            .with_hint("A state counts at most 72057594037927935 rows.")
    }
}

/// Shorthand for the input-validation errors: kind, message and hint at once.
pub fn input_error(kind: KpiErrorKind, message: String, hint: &str) -> KpiError {
    KpiError::new(kind, message).with_hint(hint)
}

impl fmt::Display for KpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KpiError {}

/// The largest count a state holds: 2^56 - 1 (72 quadrillion). The high byte of the first
/// counter of a fixed-size state is its layout's format byte (see [`layout_byte`]), so
/// counters never reach it.
pub const MAX_COUNT: i64 = (1 << 56) - 1;

/// Adds two counters, refusing to wrap around or to pass [`MAX_COUNT`].
#[inline]
pub fn checked_sum(a: i64, b: i64) -> Result<i64, KpiError> {
    match a.checked_add(b) {
        Some(sum) if sum <= MAX_COUNT => Ok(sum),
        _ => Err(KpiError::overflow()),
    }
}

/// The format byte of a fixed-size state's stored layout: the high byte of its first 8-byte
/// field (`hits`, `completed`, `resolved`: counters below [`MAX_COUNT`]; or the survey's tag). 0 is the layout every version
/// so far has written (format 1); a later layout sets its own version there, so that it is
/// told apart from this one, and its code keeps reading 0.
#[inline]
pub fn layout_byte(first_field: i64) -> u8 {
    (first_field as u64 >> 56) as u8
}

/// The error for a stored value whose layout is newer than this build's.
pub fn newer_layout(type_name: &str, byte: u8) -> KpiError {
    KpiError::invalid_binary(format!(
        "this {type_name} value has format byte {byte}: a later version of support_kpi wrote it \
         (this version reads format byte 0)"
    ))
    .with_hint(
        "Install the support_kpi build that wrote it and run ALTER EXTENSION support_kpi UPDATE.",
    )
}

/// The error for a flat variable-length state whose bytes do not hold together.
pub fn corrupt_value(type_name: &str, what: &str) -> KpiError {
    KpiError::invalid_binary(format!("invalid {type_name} value: {what}"))
        .with_hint("The value was not made by support_kpi, or was damaged.")
}

/// Checks the start of a flat variable-length state: at least `header` bytes, and the format
/// byte (its first byte) `format`.
pub fn check_flat_header(
    type_name: &str,
    b: &[u8],
    header: usize,
    format: u8,
) -> Result<(), KpiError> {
    if b.len() < header {
        return Err(corrupt_value(type_name, "too short"));
    }
    if b[0] != format {
        return Err(KpiError::invalid_binary(format!(
            "{type_name} value has format {}, this build reads format {format}",
            b[0]
        ))
        .with_hint("It was made by a later support_kpi; update the extension to read it."));
    }
    Ok(())
}

/// How many characters of a user's input an error message shows.
pub const EXCERPT_CHARS: usize = 64;

/// At most [`EXCERPT_CHARS`] characters of `text`, with "..." when it was longer: what an
/// error message echoes of user input, so that a 100 kB value never becomes a 100 kB message.
/// (ASCII dots: a message must read the same in any server encoding.)
pub fn excerpt(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(EXCERPT_CHARS) {
        None => text.to_string(),
        Some((at, _)) => format!("{}...", &text[..at]),
    }
}

/// [`excerpt`] of bytes that should be text (invalid UTF-8 shown as replacement characters).
pub fn excerpt_bytes(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(4 * (EXCERPT_CHARS + 1))];
    let shown = String::from_utf8_lossy(cut);
    let mut out = excerpt(&shown);
    if cut.len() < bytes.len() && !out.ends_with("...") {
        out.push_str("...");
    }
    out
}

/// The one error for a time that does not fit an interval (a span, a total or an average
/// over 2^63 microseconds, about 292,000 years): SQLSTATE 22008, as PostgreSQL's own
/// `timestamp - timestamp` raises it.
pub fn interval_out_of_range(what: &str) -> KpiError {
    KpiError::new(
        KpiErrorKind::DatetimeOutOfRange,
        format!("{what} out of range for an interval"),
    )
    .with_hint("A time KPI measures spans of at most 106751991 days (2^63 microseconds); check the timestamps.")
}

/// `Err` of [`nul_in_text`] when `bytes` hold a NUL character.
pub fn no_nul(field: &str, bytes: &[u8], kind: KpiErrorKind) -> Result<(), KpiError> {
    if bytes.contains(&0) {
        return Err(nul_in_text(field, kind));
    }
    Ok(())
}

/// The error for a text key, segment name, status or schedule name holding a NUL character,
/// which no PostgreSQL text value can hold: `field` names what it is ("text customer key").
pub fn nul_in_text(field: &str, kind: KpiErrorKind) -> KpiError {
    KpiError::new(
        kind,
        format!("a {field} contains a NUL character (\\u0000)"),
    )
    .with_hint("PostgreSQL text cannot hold a NUL character, so no aggregate can have counted one.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "é".repeat(100);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 3);
        assert!(e.ends_with("..."));
        assert_eq!(excerpt(&"x".repeat(64)), "x".repeat(64));
        assert_eq!(
            excerpt_bytes(&[b'a'; 100_000]).chars().count(),
            EXCERPT_CHARS + 3
        );
        assert_eq!(excerpt_bytes(b"\xffab"), "\u{fffd}ab");
    }
}
