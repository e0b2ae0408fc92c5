//! What can be wrong with Recon text or a WARP envelope.
//!
//! Both are about one message from a peer: none is fatal to the connection's host, and
//! the caller decides whether a bad frame closes the link or is reported and dropped.

use std::fmt;

/// Where in the text a problem is: a byte offset and the line and column (both from 1,
/// the column counted in characters) it falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Bytes from the start of the text.
    pub offset: usize,
    /// The line, from 1.
    pub line: usize,
    /// The character within the line, from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text` (clamped to the text, and to a character
    /// boundary before it).
    pub fn of(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            offset,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why Recon text could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ReconError {
    /// The text ended where more was needed.
    #[error("{at}: unexpected end of input, expected {expected}")]
    UnexpectedEnd {
        /// What would have been accepted.
        expected: &'static str,
        /// The end of the text.
        at: Position,
    },
    /// A character that cannot come here.
    #[error("{at}: unexpected {found:?}, expected {expected}")]
    Unexpected {
        /// The character found.
        found: char,
        /// What would have been accepted.
        expected: &'static str,
        /// Where it is.
        at: Position,
    },
    /// A backslash escape in a string or markup that Recon does not define, or a `\u`
    /// escape that is not a Unicode scalar value (a lone surrogate).
    #[error("{at}: invalid escape sequence")]
    InvalidEscape {
        /// The backslash.
        at: Position,
    },
    /// `%` followed by text that is not base64.
    #[error("{at}: invalid base64 data")]
    InvalidData {
        /// The `%`.
        at: Position,
    },
    /// Records, attributes and markup nested deeper than the parser allows.
    #[error("{at}: nesting deeper than {depth_max} levels")]
    TooDeep {
        /// The limit.
        depth_max: usize,
        /// The opening bracket that went over it.
        at: Position,
    },
}

impl ReconError {
    /// Where the problem is.
    pub fn position(&self) -> Position {
        match self {
            ReconError::UnexpectedEnd { at, .. }
            | ReconError::Unexpected { at, .. }
            | ReconError::InvalidEscape { at }
            | ReconError::InvalidData { at }
            | ReconError::TooDeep { at, .. } => *at,
        }
    }
}

/// Why a WebSocket text frame is not a WARP envelope.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EnvelopeError {
    /// The frame is not Recon.
    #[error(transparent)]
    Recon(#[from] ReconError),
    /// The frame is Recon but does not start with an attribute naming the envelope.
    #[error("not a WARP envelope: it does not start with an attribute such as @link")]
    NoTag,
    /// The leading attribute names no envelope kind.
    #[error("unknown WARP envelope @{0}")]
    UnknownTag(String),
    /// A lane-addressed envelope without its `node` or `lane`.
    #[error("@{tag} envelope has no {field}")]
    MissingHeader {
        /// The envelope kind.
        tag: &'static str,
        /// `node` or `lane`.
        field: &'static str,
    },
    /// A header whose value has the wrong type (a record where a URI belongs).
    #[error("@{tag} envelope has an invalid {field}")]
    InvalidHeader {
        /// The envelope kind.
        tag: &'static str,
        /// The header field.
        field: &'static str,
    },
}

/// Why a value is not a map-lane event (`@update`, `@remove`, `@clear`, `@take`, `@drop`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MapEventError {
    /// The value does not start with an attribute naming the event.
    #[error("not a map event: it does not start with an attribute such as @update")]
    NoTag,
    /// The leading attribute names no map event.
    #[error("unknown map event @{0}")]
    UnknownTag(String),
    /// `@update` or `@remove` without `key:` in its header.
    #[error("@{0} has no key")]
    MissingKey(&'static str),
    /// `@take` or `@drop` whose header is not a count of at least zero.
    #[error("@{0} needs a count of zero or more")]
    InvalidCount(&'static str),
}
