//! `--cert-selector` and the Go `pkix.Name.String()` form of distinguished names that
//! selectors match against and `read-certificate-data` prints.
//!
//! A selector is either `file://PATH` (a JSON array of `{"Key": …, "Value": …}` objects, field
//! names matched case-insensitively) or inline `Key=K,Value=V` pairs separated by whitespace.
//! Keys: `x509Subject`, `x509Issuer`, `x509Serial` (hex without `0x`). OS certificate stores do
//! not exist on Linux, so a valid selector is parsed and checked and then refused.

use der::{Encode, Tag, Tagged};
use x509_cert::name::Name;

use super::Certificate;
use crate::error::{Error, Result};

/// Why a `--cert-selector` cannot be used.
#[derive(Debug)]
pub enum SelectorError {
    /// The inline form does not parse.
    Unparsable,
    /// `key` appears more than once.
    Duplicate { key: String },
    /// `key` is not one of the three we know.
    InvalidKey { key: String },
    /// The selector is valid, but Linux has no OS certificate store.
    NoStore,
    /// The `file://` selector `path` is too large to be one.
    TooLarge { path: String },
    /// The OS could not read the selector file `path`.
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The safe-file layer refused the selector file.
    Refused(crate::files::Error),
    /// The selector file `path` is not the JSON array of Key/Value objects.
    BadJson { path: String },
}

impl SelectorError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            SelectorError::Unparsable => HINT,
            SelectorError::Duplicate { .. } => "give each key at most once",
            SelectorError::InvalidKey { .. } => {
                "the keys are x509Subject, x509Issuer and x509Serial (case-sensitive)"
            }
            SelectorError::NoStore => {
                "pass --certificate and --private-key (files, pkcs11: URIs or a TPM key) instead of --cert-selector"
            }
            SelectorError::TooLarge { .. } => {
                "--cert-selector file://PATH must name a small JSON file"
            }
            SelectorError::Read { .. } => return None,
            SelectorError::Refused(e) => return e.hint(),
            SelectorError::BadJson { .. } => {
                "the file must hold a JSON array of {\"Key\": \"x509Subject\", \"Value\": \"CN=...\"} objects"
            }
        };
        Some(h.to_string())
    }
}

impl std::fmt::Display for SelectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectorError::Unparsable => {
                f.write_str("unable to parse cert selector string in --cert-selector")
            }
            SelectorError::Duplicate { key } => {
                write!(f, "duplicate {key} keys can't be present in cert selector")
            }
            SelectorError::InvalidKey { key } => {
                write!(f, "cert selector contained invalid key {key:?}")
            }
            SelectorError::NoStore => f.write_str(
                "unable to use cert store signer on linux: OS certificate stores are not available on Linux",
            ),
            SelectorError::TooLarge { path } => {
                write!(f, "cert selector file {path} is larger than 1 MiB")
            }
            SelectorError::Read { path, source } => write!(
                f,
                "unable to read cert selector file {path}: {}",
                source.kind()
            ),
            SelectorError::Refused(e) => e.fmt(f),
            SelectorError::BadJson { path } => write!(
                f,
                "unable to parse JSON map entries in cert selector file {path}"
            ),
        }
    }
}

impl std::error::Error for SelectorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SelectorError::Read { source, .. } => Some(source),
            SelectorError::Refused(e) => Some(e),
            _ => None,
        }
    }
}

crate::error::typed_error!(SelectorError);

/// A parsed certificate selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertSelector {
    /// `x509Subject`: the subject in Go's `pkix.Name.String()` form.
    pub subject: Option<String>,
    /// `x509Issuer`: the issuer in the same form.
    pub issuer: Option<String>,
    /// `x509Serial`: the serial number's magnitude, big-endian, no leading zeros.
    pub serial: Option<Vec<u8>>,
}

const HINT: &str = "use Key=x509Subject|x509Issuer|x509Serial,Value=... pairs separated by spaces, or file://PATH to a JSON array of {\"Key\": ..., \"Value\": ...} objects";

impl CertSelector {
    /// Parses the `--cert-selector` value.
    pub fn parse(text: &str) -> Result<CertSelector> {
        CertSelector::parse_with(text, read_selector_file)
    }

    /// [`CertSelector::parse`] with `read` giving the contents of a `file://PATH` selector (the
    /// fuzz target feeds its input through here).
    pub fn parse_with(
        text: &str,
        read: impl FnOnce(&str) -> Result<Vec<u8>>,
    ) -> Result<CertSelector> {
        let pairs = match text.strip_prefix("file://") {
            Some(path) => parse_file(path, &read(path)?)?,
            None => parse_inline(text).ok_or(SelectorError::Unparsable)?,
        };
        let mut selector = CertSelector::default();
        for (key, value) in pairs {
            let duplicate = || Error::from(SelectorError::Duplicate { key: key.clone() });
            match key.as_str() {
                "x509Subject" => {
                    if selector.subject.replace(value).is_some() {
                        return Err(duplicate());
                    }
                }
                "x509Issuer" => {
                    if selector.issuer.replace(value).is_some() {
                        return Err(duplicate());
                    }
                }
                "x509Serial" => {
                    if selector.serial.replace(serial_from_hex(&value)).is_some() {
                        return Err(duplicate());
                    }
                }
                _ => return Err(SelectorError::InvalidKey { key }.into()),
            }
        }
        Ok(selector)
    }

    /// Whether `cert` has every attribute the selector names.
    pub fn matches(&self, cert: &Certificate) -> bool {
        let tbs = cert.parsed().tbs_certificate();
        self.subject
            .as_ref()
            .is_none_or(|s| *s == go_name_string(tbs.subject()))
            && self
                .issuer
                .as_ref()
                .is_none_or(|s| *s == go_name_string(tbs.issuer()))
            && self
                .serial
                .as_ref()
                .is_none_or(|s| s.as_slice() == cert.serial_bytes())
    }
}

/// The error every store operation gives on Linux, after the selector was validated.
pub fn no_store_on_linux() -> Error {
    SelectorError::NoStore.into()
}

/// Hex without `0x`; invalid hex matches nothing (like the official tool, it is not reported).
fn serial_from_hex(value: &str) -> Vec<u8> {
    let digits = value.trim();
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    match hex::decode(padded) {
        Ok(bytes) => {
            let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
            bytes[start..].to_vec()
        }
        // A serial is never this long, so it matches nothing.
        Err(_) => vec![0xff; 64],
    }
}

/// A selector file is a few lines of JSON; anything this large is the wrong file (or a device).
const MAX_SELECTOR_FILE: u64 = 1 << 20;

fn read_selector_file(path: &str) -> Result<Vec<u8>> {
    match crate::files::read_file(
        std::path::Path::new(path),
        MAX_SELECTOR_FILE,
        "cert selector file",
    ) {
        Ok(data) => Ok(data.to_vec()),
        Err(crate::files::Error::TooLarge { .. }) => Err(SelectorError::TooLarge {
            path: path.to_string(),
        }
        .into()),
        Err(crate::files::Error::Io { source, .. }) => Err(SelectorError::Read {
            path: path.to_string(),
            source,
        }
        .into()),
        Err(e) => Err(SelectorError::Refused(e).into()),
    }
}

fn parse_file(path: &str, data: &[u8]) -> Result<Vec<(String, String)>> {
    let bad = || {
        Error::from(SelectorError::BadJson {
            path: path.to_string(),
        })
    };
    let value: serde_json::Value = serde_json::from_slice(data).map_err(|_| bad())?;
    let entries = value.as_array().ok_or_else(bad)?;
    let mut pairs = Vec::new();
    for entry in entries {
        let object = entry.as_object().ok_or_else(bad)?;
        // Like Go's encoding/json: field names match case-insensitively, the last one wins.
        let field = |name: &str| -> Result<String> {
            let mut found = String::new();
            for (k, v) in object {
                if k.eq_ignore_ascii_case(name) {
                    found = v.as_str().ok_or_else(bad)?.to_string();
                }
            }
            Ok(found)
        };
        pairs.push((field("Key")?, field("Value")?));
    }
    Ok(pairs)
}

/// `Key=K,Value=V` pairs separated by whitespace; `None` when anything is left unparsed.
fn parse_inline(text: &str) -> Option<Vec<(String, String)>> {
    let mut rest = text.trim_start();
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix("Key=")?;
        let comma = rest.find(",Value=")?;
        if comma == 0 {
            return None;
        }
        let key = &rest[..comma];
        let after = &rest[comma + ",Value=".len()..];
        // The shortest non-empty value followed by optional whitespace and `Key=` or the end.
        let mut end = None;
        for (i, _) in after.char_indices().skip(1) {
            let tail = after[i..].trim_start();
            if tail.starts_with("Key=") {
                end = Some(i);
                break;
            }
        }
        let (value, next) = match end {
            Some(i) => (&after[..i], after[i..].trim_start()),
            None => (after.trim_end(), ""),
        };
        // `.+?` needs at least one character, and the trailing-space rule may eat it all.
        let value = value.trim_end_matches(char::is_whitespace);
        if value.is_empty() {
            return None;
        }
        pairs.push((key.to_string(), value.to_string()));
        rest = next;
    }
    Some(pairs)
}

/// The nine attribute types Go parses into named fields, in its output order.
const NAMED: [(&str, &str); 9] = [
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.3", "CN"),
    ("2.5.4.11", "OU"),
    ("2.5.4.10", "O"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.6", "C"),
];

/// A distinguished name as Go's `pkix.Name.String()` prints it: the nine known types
/// in a fixed order (several values of one type joined with `+`; only the last CN and
/// SERIALNUMBER kept), then every other attribute as `OID=#hex` in reverse order of appearance.
pub fn go_name_string(name: &Name) -> String {
    let mut named: Vec<Vec<String>> = vec![Vec::new(); NAMED.len()];
    let mut others: Vec<String> = Vec::new();
    {
        for atv in name.iter() {
            let oid = atv.oid.to_string();
            let text = attribute_text(&atv.value);
            match NAMED.iter().position(|(o, _)| *o == oid) {
                Some(i) => {
                    // Go keeps values of the known types only when they are strings.
                    let Some(text) = text else { continue };
                    if i <= 1 {
                        // CommonName and SerialNumber are single strings: the last one wins.
                        named[i] = vec![text];
                    } else {
                        named[i].push(text);
                    }
                }
                None => others.push(format!("{oid}=#{}", hex::encode(remarshal(&atv.value)))),
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for (i, values) in named.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let label = NAMED[i].1;
        parts.push(
            values
                .iter()
                .map(|v| format!("{label}={}", escape(v)))
                .collect::<Vec<_>>()
                .join("+"),
        );
    }
    others.reverse();
    parts.extend(others);
    parts.join(",")
}

/// The text of a string-typed attribute value.
fn attribute_text(value: &der::Any) -> Option<String> {
    match value.tag() {
        Tag::PrintableString
        | Tag::Utf8String
        | Tag::Ia5String
        | Tag::TeletexString
        | Tag::VisibleString => std::str::from_utf8(value.value()).ok().map(str::to_string),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .value()
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Go re-marshals a parsed string value as PrintableString when it can, else UTF8String; other
/// values keep their encoding.
fn remarshal(value: &der::Any) -> Vec<u8> {
    let Some(text) = attribute_text(value) else {
        return value.to_der().unwrap_or_default();
    };
    let printable = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c));
    let tag: u8 = if printable { 0x13 } else { 0x0c };
    let mut out = vec![tag];
    let len = text.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend(text.as_bytes());
    out
}

/// Go's escaping: `,+"\<>;` always, a leading `#` or space, a trailing space.
fn escape(value: &str) -> String {
    let count = value.chars().count();
    let mut out = String::with_capacity(value.len());
    for (k, c) in value.chars().enumerate() {
        let needs = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k + 1 == count,
            '#' => k == 0,
            _ => false,
        };
        if needs {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn sel(s: &str) -> Result<CertSelector> {
        CertSelector::parse(s)
    }

    #[test]
    fn inline_examples_from_the_official_tests() {
        let s = sel("Key=x509Subject,Value=CN=Subject Key=x509Issuer,Value=CN=Issuer Key=x509Serial,Value=15D19632234BF759A32802C0DA88F9E8AFC8702D").unwrap();
        assert_eq!(s.subject.as_deref(), Some("CN=Subject"));
        assert_eq!(s.issuer.as_deref(), Some("CN=Issuer"));
        assert_eq!(
            s.serial.unwrap(),
            hex::decode("15D19632234BF759A32802C0DA88F9E8AFC8702D").unwrap()
        );
        let s = sel("Key=x509Subject,Value=CN=CN With Spaces,OU=OU With Spaces").unwrap();
        assert_eq!(
            s.subject.as_deref(),
            Some("CN=CN With Spaces,OU=OU With Spaces")
        );
        let s = sel("\n\tKey=x509Subject,Value=CN=CN With Trailing Spaces  ,O=O With Spaces  \n\t Key=x509Serial,Value=0A \n").unwrap();
        assert_eq!(
            s.subject.as_deref(),
            Some("CN=CN With Trailing Spaces  ,O=O With Spaces")
        );
        assert_eq!(s.serial.unwrap(), vec![0x0a]);
    }

    #[test]
    fn invalid_selectors() {
        for bad in [
            "laksdjadf",
            "Key=laksdjf,Valalsd",
            "asdf Key=x509Subject,Value=CN=a",
            "Key=x509Subject,Value=",
            "Key=,Value=x",
        ] {
            let e = sel(bad).unwrap_err();
            assert!(
                e.message()
                    .starts_with("unable to parse cert selector string"),
                "{bad}: {e}"
            );
        }
        assert!(sel("Key=x509Foo,Value=1")
            .unwrap_err()
            .message()
            .starts_with("cert selector contained invalid key"));
        assert_eq!(
            sel("Key=x509Subject,Value=CN=a Key=x509Subject,Value=CN=b")
                .unwrap_err()
                .message(),
            "duplicate x509Subject keys can't be present in cert selector"
        );
    }

    #[test]
    fn file_selectors() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(
            &good,
            r#"[{"key":"x509Subject","VALUE":"CN=a, b"},{"Key":"x509Serial","Value":"1","Extra":1}]"#,
        )
        .unwrap();
        let s = sel(&format!("file://{}", good.display())).unwrap();
        assert_eq!(s.subject.as_deref(), Some("CN=a, b"));
        assert_eq!(s.serial.unwrap(), vec![1]);
        let object = dir.path().join("object.json");
        std::fs::write(&object, r#"{"Key":"x509Subject","Value":"CN=a"}"#).unwrap();
        let e = sel(&format!("file://{}", object.display())).unwrap_err();
        assert!(e.message().starts_with("unable to parse JSON map entries"));
        let text = dir.path().join("text");
        std::fs::write(&text, "not json").unwrap();
        assert!(sel(&format!("file://{}", text.display()))
            .unwrap_err()
            .message()
            .starts_with("unable to parse JSON map entries"));
        assert!(sel("file:///nonexistent/selector.json")
            .unwrap_err()
            .message()
            .starts_with("unable to read cert selector file"));
        // A device that never ends is refused before a byte is read instead of filling memory.
        assert_eq!(
            sel("file:///dev/zero").unwrap_err().message(),
            "cannot use cert selector file /dev/zero: it is a character device, not a regular file"
        );
        let big = dir.path().join("big.json");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_SELECTOR_FILE + 1)
            .unwrap();
        assert_eq!(
            sel(&format!("file://{}", big.display()))
                .unwrap_err()
                .message(),
            format!("cert selector file {} is larger than 1 MiB", big.display())
        );
    }

    #[test]
    fn go_name_order_and_escaping() {
        let name = Name::from_str(
            "C=US,ST=WA,L=Seattle,O=Org\\, Inc,OU=b,OU=a,CN= lead#,serialNumber=42,emailAddress=a@b.c",
        )
        .unwrap();
        // RFC 4514 strings list the last RDN first, so the certificate order is reversed here;
        // Go's form does not depend on it.
        let email = hex::encode([&[0x0c, 5][..], b"a@b.c"].concat());
        assert_eq!(
            go_name_string(&name),
            format!("SERIALNUMBER=42,CN=\\ lead#,OU=a+OU=b,O=Org\\, Inc,L=Seattle,ST=WA,C=US,1.2.840.113549.1.9.1=#{email}")
        );
    }
}
