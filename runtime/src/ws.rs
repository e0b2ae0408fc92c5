//! WebSocket (RFC 6455), the server's side, as WARP links use it: the answer to an
//! opening handshake, the frames a server sends, and a reader of the frames a client
//! sends.
//!
//! A server's frames are not masked, so one encoding of an event is the same bytes for
//! every client: the node encodes each event once and writes those bytes to every linked
//! socket (`agents/links.rs`). A client's frames are masked and may be fragmented; the
//! reader joins them into messages of at most a stated size and refuses anything else
//! with the close code RFC 6455 gives for it. No extension is negotiated, so no reserved
//! bit may be set.

use std::fmt;

/// Text frame opcode.
const TEXT: u8 = 0x1;
/// Binary frame opcode.
const BINARY: u8 = 0x2;
/// Continuation frame opcode.
const CONTINUATION: u8 = 0x0;
/// Close frame opcode.
const CLOSE: u8 = 0x8;
/// Ping frame opcode.
const PING: u8 = 0x9;
/// Pong frame opcode.
const PONG: u8 = 0xA;
/// The longest payload of a control frame (close, ping, pong).
const CONTROL_BYTES_MAX: usize = 125;
/// The longest close reason: a control payload less the two bytes of its code.
pub const CLOSE_REASON_BYTES_MAX: usize = CONTROL_BYTES_MAX - 2;

/// The `Sec-WebSocket-Accept` answering a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    tungstenite::handshake::derive_accept_key(key)
}

/// One unfragmented frame with `opcode` and `payload`, as a server sends it (unmasked).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut out = Vec::with_capacity(len + 10);
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// A text frame carrying `text`.
pub fn text(text: &str) -> Vec<u8> {
    frame(TEXT, text.as_bytes())
}

/// A pong answering a ping with `payload`.
pub fn pong(payload: &[u8]) -> Vec<u8> {
    frame(PONG, &payload[..payload.len().min(CONTROL_BYTES_MAX)])
}

/// A close frame with `code` and `reason`, cut to [`CLOSE_REASON_BYTES_MAX`] bytes at a
/// character boundary.
pub fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(CLOSE_REASON_BYTES_MAX);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    frame(CLOSE, &payload)
}

/// The payload of one unmasked frame as [`frame`] makes it, if `bytes` is one.
pub fn payload(bytes: &[u8]) -> Option<&[u8]> {
    let (len, at): (usize, usize) = match *bytes.get(1)? {
        126 => (
            usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
            4,
        ),
        127 => {
            let b: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(b)).ok()?, 10)
        }
        n => (usize::from(n & 0x7f), 2),
    };
    bytes.get(at..at.checked_add(len)?)
}

/// A whole message from a client.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    /// The client closes, with the code it gave, if any.
    Close(Option<u16>),
}

/// Why a client's bytes are not a WebSocket conversation the server can go on with.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// A frame breaks RFC 6455 (close code 1002).
    Protocol(&'static str),
    /// A message is longer than the reader takes (1009).
    TooBig { max: usize },
    /// A text message is not UTF-8 (1007).
    NotUtf8,
}

impl ReadError {
    /// The close code RFC 6455 gives for the error.
    pub fn code(&self) -> u16 {
        match self {
            ReadError::Protocol(_) => 1002,
            ReadError::TooBig { .. } => 1009,
            ReadError::NotUtf8 => 1007,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Protocol(why) => write!(f, "not a WebSocket frame: {why}"),
            ReadError::TooBig { max } => {
                write!(f, "a message is longer than {max} bytes (frame_bytes_max)")
            }
            ReadError::NotUtf8 => write!(f, "a text message is not UTF-8"),
        }
    }
}

/// Joins a client's bytes into messages. Holds at most one message's bytes and what one
/// read brought beyond them.
pub struct Reader {
    buf: Vec<u8>,
    /// Where the next frame starts in `buf`.
    at: usize,
    /// The opcode and payload of a fragmented message still arriving.
    partial: Option<(u8, Vec<u8>)>,
    message_bytes_max: usize,
}

/// One frame's header.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    len: usize,
    /// Its length in bytes (where the payload starts).
    size: usize,
}

impl Reader {
    /// A reader of messages of at most `message_bytes_max` bytes.
    pub fn new(message_bytes_max: usize) -> Reader {
        Reader {
            buf: Vec::new(),
            at: 0,
            partial: None,
            message_bytes_max,
        }
    }

    /// Takes bytes read from the client.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.at > 0 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `None` until its last byte has been fed.
    pub fn message(&mut self) -> Result<Option<Message>, ReadError> {
        loop {
            let Some(h) = self.header()? else {
                return Ok(None);
            };
            let Some(end) = (self.at + h.size).checked_add(h.len) else {
                return Err(ReadError::TooBig {
                    max: self.message_bytes_max,
                });
            };
            if self.buf.len() < end {
                return Ok(None);
            }
            let mut payload = self.buf[self.at + h.size..end].to_vec();
            self.at = end;
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= h.mask[i % 4];
            }
            if let Some(m) = self.frame_message(&h, payload)? {
                return Ok(Some(m));
            }
        }
    }

    /// The header of the frame at `at`, once all of it is here; checks what it can.
    fn header(&self) -> Result<Option<Header>, ReadError> {
        let b = &self.buf[self.at..];
        if b.len() < 2 {
            return Ok(None);
        }
        if b[0] & 0x70 != 0 {
            return Err(ReadError::Protocol("a reserved bit is set"));
        }
        if b[1] & 0x80 == 0 {
            return Err(ReadError::Protocol("a client's frame is not masked"));
        }
        let (len, at) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n), 10)
            }
            126 | 127 => return Ok(None),
            n => (u64::from(n), 2),
        };
        let opcode = b[0] & 0x0f;
        let fin = b[0] & 0x80 != 0;
        if opcode >= CLOSE && (!fin || len > CONTROL_BYTES_MAX as u64) {
            return Err(ReadError::Protocol(
                "a control frame is fragmented or longer than 125 bytes",
            ));
        }
        let so_far = self.partial.as_ref().map_or(0, |(_, p)| p.len()) as u64;
        if len.saturating_add(so_far) > self.message_bytes_max as u64 {
            return Err(ReadError::TooBig {
                max: self.message_bytes_max,
            });
        }
        if b.len() < at + 4 {
            return Ok(None);
        }
        let mut mask = [0u8; 4];
        mask.copy_from_slice(&b[at..at + 4]);
        Ok(Some(Header {
            fin,
            opcode,
            mask,
            len: len as usize,
            size: at + 4,
        }))
    }

    /// What one frame adds: a message when it completes one.
    fn frame_message(
        &mut self,
        h: &Header,
        payload: Vec<u8>,
    ) -> Result<Option<Message>, ReadError> {
        let (opcode, whole) = match h.opcode {
            CLOSE => {
                let code = match payload.len() {
                    0 => None,
                    1 => return Err(ReadError::Protocol("a close frame of one byte")),
                    _ => Some(u16::from_be_bytes([payload[0], payload[1]])),
                };
                return Ok(Some(Message::Close(code)));
            }
            PING => return Ok(Some(Message::Ping(payload))),
            PONG => return Ok(Some(Message::Pong)),
            TEXT | BINARY if self.partial.is_some() => {
                return Err(ReadError::Protocol(
                    "a new message began before the last one ended",
                ))
            }
            TEXT | BINARY if !h.fin => {
                self.partial = Some((h.opcode, payload));
                return Ok(None);
            }
            TEXT | BINARY => (h.opcode, payload),
            CONTINUATION => {
                let Some((opcode, mut so_far)) = self.partial.take() else {
                    return Err(ReadError::Protocol("a continuation with no message"));
                };
                so_far.extend_from_slice(&payload);
                if !h.fin {
                    self.partial = Some((opcode, so_far));
                    return Ok(None);
                }
                (opcode, so_far)
            }
            _ => return Err(ReadError::Protocol("an unknown opcode")),
        };
        if opcode == BINARY {
            return Ok(Some(Message::Binary(whole)));
        }
        String::from_utf8(whole)
            .map(|t| Some(Message::Text(t)))
            .map_err(|_| ReadError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's frame: masked with a fixed key.
    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut f = frame(first & 0x0f, payload);
        f[0] = first;
        let at = f.len() - payload.len();
        f[1] |= 0x80;
        let body: Vec<u8> = payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        f.truncate(at);
        f.extend_from_slice(&mask);
        f.extend_from_slice(&body);
        f
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn server_frames_carry_their_length_in_the_shortest_form() {
        assert_eq!(text("hi"), b"\x81\x02hi");
        let long = "x".repeat(300);
        let f = text(&long);
        assert_eq!(&f[..4], &[0x81, 126, 1, 44]);
        assert_eq!(payload(&f), Some(long.as_bytes()));
        let huge = "y".repeat(70_000);
        let f = text(&huge);
        assert_eq!(f[1], 127);
        assert_eq!(payload(&f), Some(huge.as_bytes()));
    }

    #[test]
    fn a_close_reason_is_cut_at_a_character_boundary() {
        let reason = "é".repeat(100);
        let f = close(1008, &reason);
        let p = payload(&f).expect("a frame");
        assert_eq!(&p[..2], &1008u16.to_be_bytes());
        assert!(p.len() <= CONTROL_BYTES_MAX);
        assert!(std::str::from_utf8(&p[2..]).is_ok());
    }

    #[test]
    fn messages_come_whole_however_the_bytes_are_split() {
        let mut bytes = masked(0x81, b"@link(node:a,lane:b)");
        bytes.extend(masked(0x01, b"frag"));
        bytes.extend(masked(0x89, b"ping!"));
        bytes.extend(masked(0x80, b"mented"));
        bytes.extend(masked(0x88, &1000u16.to_be_bytes()));
        for step in [1, 3, 7, bytes.len()] {
            let mut r = Reader::new(1024);
            let mut got = vec![];
            for chunk in bytes.chunks(step) {
                r.feed(chunk);
                while let Some(m) = r.message().expect("valid frames") {
                    got.push(m);
                }
            }
            assert_eq!(
                got,
                vec![
                    Message::Text("@link(node:a,lane:b)".into()),
                    Message::Ping(b"ping!".to_vec()),
                    Message::Text("fragmented".into()),
                    Message::Close(Some(1000)),
                ],
                "split every {step} bytes"
            );
        }
    }

    #[test]
    fn broken_frames_are_refused_with_their_close_codes() {
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (frame(TEXT, b"unmasked"), 1002),
            (masked(0xC1, b"rsv1"), 1002),
            (masked(0x80, b"no message"), 1002),
            (masked(0x09, b"fragmented ping"), 1002),
            (masked(0x83, b"opcode 3"), 1002),
            (masked(0x81, &[0xff, 0xfe]), 1007),
            (masked(0x81, &[b'a'; 100]), 1009),
            (
                [masked(0x01, &[b'a'; 40]), masked(0x80, &[b'a'; 40])].concat(),
                1009,
            ),
            ([masked(0x01, b"a"), masked(0x81, b"b")].concat(), 1002),
        ];
        for (bytes, code) in cases {
            let mut r = Reader::new(64);
            r.feed(&bytes);
            let e = loop {
                match r.message() {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("accepted {bytes:?}"),
                    Err(e) => break e,
                }
            };
            assert_eq!(e.code(), code, "{e} for {bytes:?}");
        }
    }

    #[test]
    fn a_header_claiming_more_than_the_limit_is_refused_before_its_payload() {
        let mut r = Reader::new(1 << 20);
        // A 64-bit length of 2^62, no payload: refused at once, nothing buffered for it.
        let mut h = vec![0x81, 0xff];
        h.extend_from_slice(&(1u64 << 62).to_be_bytes());
        r.feed(&h);
        assert!(matches!(r.message(), Err(ReadError::TooBig { .. })));
    }
}
