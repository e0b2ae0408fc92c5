//! Character classes of Recon text, shared by the parser and the printer.
//!
//! The identifier ranges are Swim's (`Recon.isIdentStartChar`/`isIdentChar` in
//! `@swim/recon`), so that what we print bare `@swim/client` reads as an identifier, and
//! the reverse.

/// Space or tab: skipped between tokens without ending an item.
pub(crate) fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Line feed or carriage return: separates items like `,` and `;`.
pub(crate) fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// Space, tab or newline.
pub(crate) fn is_whitespace(c: char) -> bool {
    is_space(c) || is_newline(c)
}

/// A character that may start an identifier.
pub(crate) fn is_ident_start(c: char) -> bool {
    let c = c as u32;
    matches!(c,
        0x41..=0x5a | 0x5f | 0x61..=0x7a | 0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0x2ff
        | 0x370..=0x37d | 0x37f..=0x1fff | 0x200c..=0x200d | 0x2070..=0x218f
        | 0x2c00..=0x2fef | 0x3001..=0xd7ff | 0xf900..=0xfdcf | 0xfdf0..=0xfffd
        | 0x10000..=0xeffff)
}

/// A character that may continue an identifier (digits and `-` among them).
pub(crate) fn is_ident_char(c: char) -> bool {
    let c = c as u32;
    matches!(c,
        0x2d | 0x30..=0x39 | 0x41..=0x5a | 0x5f | 0x61..=0x7a | 0xb7 | 0xc0..=0xd6
        | 0xd8..=0xf6 | 0xf8..=0x37d | 0x37f..=0x1fff | 0x200c..=0x200d
        | 0x203f..=0x2040 | 0x2070..=0x218f | 0x2c00..=0x2fef | 0x3001..=0xd7ff
        | 0xf900..=0xfdcf | 0xfdf0..=0xfffd | 0x10000..=0xeffff)
}

/// Identifiers that read as something other than text: printed quoted when they are text.
pub(crate) const RESERVED_IDENTS: [&str; 2] = ["true", "false"];

/// Whether `text` can be printed bare and read back as the same text.
pub(crate) fn is_plain_ident(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if is_ident_start(c) => {}
        _ => return false,
    }
    chars.all(is_ident_char) && !RESERVED_IDENTS.contains(&text)
}

/// A character that can start an item: an attribute, record, markup, string, number,
/// data or identifier.
pub(crate) fn is_item_start(c: char) -> bool {
    matches!(c, '@' | '{' | '[' | '"' | '\'' | '-' | '%' | '0'..='9') || is_ident_start(c)
}
