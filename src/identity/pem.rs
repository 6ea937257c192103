//! A small, tolerant PEM reader: every `-----BEGIN X-----` … `-----END X-----` block of a file,
//! in order, with any text before, between and after the blocks ignored.

use base64::Engine;
use zeroize::Zeroizing;

/// One decoded PEM block. The bytes may be a private key, so they are wiped on drop.
pub struct Block {
    /// The label, e.g. `CERTIFICATE` or `PRIVATE KEY`.
    pub label: String,
    /// Whether the block carries RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`).
    pub has_headers: bool,
    /// The decoded DER.
    pub der: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("label", &self.label)
            .field("len", &self.der.len())
            .finish()
    }
}

/// Whether `data` looks like PEM text (it has a `-----BEGIN ` line).
pub fn is_pem(data: &[u8]) -> bool {
    data.windows(BEGIN.len()).any(|w| w == BEGIN.as_bytes())
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Parses every PEM block in `data`. Fails on a block that is not terminated or whose base64 is
/// broken; the message says which block (never its content).
pub fn parse(data: &[u8]) -> Result<Vec<Block>, String> {
    // PEM is ASCII; treat anything else as a broken file rather than guessing an encoding.
    let text = std::str::from_utf8(data).map_err(|_| "the file is not text".to_string())?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix(BEGIN)
            .and_then(|rest| rest.strip_suffix(DASHES))
        else {
            continue;
        };
        let end_line = format!("{END}{label}{DASHES}");
        let mut body = Zeroizing::new(String::new());
        let mut has_headers = false;
        let mut terminated = false;
        for line in lines.by_ref() {
            if line == end_line {
                terminated = true;
                break;
            }
            if line.contains(':') {
                has_headers = true;
                continue;
            }
            body.push_str(line);
        }
        if !terminated {
            return Err(format!("the {label} block has no END line"));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| format!("the {label} block is not valid base64"))?;
        blocks.push(Block {
            label: label.to_string(),
            has_headers,
            der: Zeroizing::new(der),
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_in_order_with_text_between() {
        let text = b"junk before\n-----BEGIN A-----\nAAEC\n-----END A-----\nsome text\n\
                     -----BEGIN B C-----\r\nAw==\r\n-----END B C-----\ntrailer";
        let blocks = parse(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(&blocks[0].der[..], &[0, 1, 2]);
        assert_eq!(blocks[1].label, "B C");
        assert_eq!(&blocks[1].der[..], &[3]);
        assert!(is_pem(text));
        assert!(!is_pem(b"\x30\x82\x01"));
    }

    #[test]
    fn broken_blocks_are_errors() {
        assert!(parse(b"-----BEGIN A-----\nAAEC\n").is_err());
        assert!(parse(b"-----BEGIN A-----\n!!!\n-----END A-----\n").is_err());
        assert!(parse(b"\xff\xfe").is_err());
        let headers =
            parse(b"-----BEGIN A-----\nProc-Type: 4,ENCRYPTED\n\nAAEC\n-----END A-----\n").unwrap();
        assert!(headers[0].has_headers);
    }
}
