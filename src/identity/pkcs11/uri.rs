//! RFC 7512 `pkcs11:` URIs: `pkcs11:` path attributes separated by `;`, then an optional `?`
//! and query attributes separated by `&`; values percent-decoded.
//!
//! Path attributes used to search: `token`, `manufacturer`, `model`, `serial` (token info),
//! `slot-description`, `slot-manufacturer`, `slot-id` (slot info), `object` (CKA_LABEL), `id`
//! (CKA_ID bytes); `type` is checked but does not narrow the search; `library-*` and `x-*` are
//! accepted and ignored. Query attributes: `pin-value`, `pin-source=file:PATH`, `module-path`
//! (used when `--pkcs11-lib` is not given); `module-name` and unknown ones are ignored.

use zeroize::Zeroizing;

use super::Pkcs11Error;
use crate::error::{Error, Result};

/// A parsed PKCS#11 URI. The PIN is wiped on drop and never printed.
#[derive(Clone, Default)]
pub struct Pkcs11Uri {
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub slot_description: Option<String>,
    pub slot_manufacturer: Option<String>,
    pub slot_id: Option<u64>,
    /// `object`: CKA_LABEL.
    pub object: Option<String>,
    /// `id`: CKA_ID.
    pub id: Option<Vec<u8>>,
    /// `type`: `cert`, `private`, `public`, `secret-key` or `data`.
    pub object_type: Option<String>,
    /// `pin-value`.
    pub pin_value: Option<Zeroizing<String>>,
    /// `pin-source`, only `file:` forms are supported.
    pub pin_source: Option<String>,
    /// `module-path`.
    pub module_path: Option<String>,
}

impl std::fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_uri_string())
    }
}

const KNOWN_TYPES: [&str; 5] = ["cert", "private", "public", "secret-key", "data"];

fn malformed(what: &str, hint: &'static str) -> Error {
    Pkcs11Error::Malformed {
        what: what.to_string(),
        hint,
    }
    .into()
}

const URI_HINT: &str = "use RFC 7512 syntax, e.g. pkcs11:token=MyToken;object=my-key?pin-source=file:/path/to/pin (percent-encode ; ? & = % in values)";

/// Decodes `%XX` escapes; `None` on a broken escape.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn decode_text(value: &str, what: &str) -> Result<String> {
    let bytes = percent_decode(value)
        .ok_or_else(|| malformed(&format!("bad %-escape in {what}"), URI_HINT))?;
    String::from_utf8(bytes)
        .map_err(|_| malformed(&format!("{what} is not UTF-8 after decoding"), URI_HINT))
}

impl Pkcs11Uri {
    /// Parses a URI. Errors name the attribute at fault, never a PIN.
    pub fn parse(text: &str) -> Result<Pkcs11Uri> {
        let Some(rest) = text.strip_prefix("pkcs11:") else {
            return Err(malformed("missing pcks11: prefix", URI_HINT));
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        let mut seen: Vec<String> = Vec::new();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let Some((name, value)) = attr.split_once('=') else {
                return Err(malformed(
                    &format!("malformed path attribute {attr:?} (expected name=value)"),
                    URI_HINT,
                ));
            };
            if seen.iter().any(|s| s == name) {
                return Err(malformed(
                    &format!("duplicate path attribute {name}"),
                    URI_HINT,
                ));
            }
            seen.push(name.to_string());
            match name {
                "token" => uri.token = Some(decode_text(value, name)?),
                "manufacturer" => uri.manufacturer = Some(decode_text(value, name)?),
                "model" => uri.model = Some(decode_text(value, name)?),
                "serial" => uri.serial = Some(decode_text(value, name)?),
                "slot-description" => uri.slot_description = Some(decode_text(value, name)?),
                "slot-manufacturer" => uri.slot_manufacturer = Some(decode_text(value, name)?),
                "slot-id" => {
                    let v = decode_text(value, name)?;
                    uri.slot_id = Some(v.parse().map_err(|_| {
                        Error::from(Pkcs11Error::SlotId {
                            value: v.to_string(),
                        })
                    })?);
                }
                "object" => uri.object = Some(decode_text(value, name)?),
                "id" => {
                    uri.id = Some(percent_decode(value).ok_or_else(|| {
                        malformed("bad %-escape in id", URI_HINT)
                    })?)
                }
                "type" => {
                    let v = decode_text(value, name)?;
                    if !KNOWN_TYPES.contains(&v.as_str()) {
                        return Err(malformed(
                            &format!("unknown type {v:?} (expected cert, private, public, secret-key or data)"),
                            URI_HINT,
                        ));
                    }
                    uri.object_type = Some(v);
                }
                _ if name.starts_with("library-") || name.starts_with("x-") => {}
                _ => {
                    return Err(malformed(
                        &format!("malformed path attribute: unknown attribute {name:?}"),
                        "known attributes: token, manufacturer, model, serial, slot-description, slot-manufacturer, slot-id, object, id, type",
                    ))
                }
            }
        }
        for attr in query.unwrap_or("").split('&').filter(|a| !a.is_empty()) {
            let Some((name, value)) = attr.split_once('=') else {
                return Err(malformed(
                    "malformed query attribute (expected name=value)",
                    URI_HINT,
                ));
            };
            match name {
                "pin-value" => {
                    if uri.pin_value.is_some() {
                        return Err(malformed("duplicate query attribute pin-value", URI_HINT));
                    }
                    let bytes = Zeroizing::new(
                        percent_decode(value)
                            .ok_or_else(|| malformed("bad %-escape in pin-value", URI_HINT))?,
                    );
                    let pin = std::str::from_utf8(&bytes)
                        .map_err(|_| malformed("pin-value is not UTF-8", URI_HINT))?;
                    uri.pin_value = Some(Zeroizing::new(pin.to_string()));
                }
                "pin-source" => uri.pin_source = Some(decode_text(value, name)?),
                "module-path" => uri.module_path = Some(decode_text(value, name)?),
                _ => {}
            }
        }
        if uri.pin_value.is_some() && uri.pin_source.is_some() {
            return Err(malformed(
                "pin-value and pin-source cannot both be given",
                "keep one of them",
            ));
        }
        Ok(uri)
    }

    /// Reads the PIN the URI carries: `pin-value`, or the first line of a `pin-source=file:` file.
    pub fn pin(&self) -> Result<Option<Zeroizing<String>>> {
        if let Some(pin) = &self.pin_value {
            return Ok(Some(pin.clone()));
        }
        let Some(source) = &self.pin_source else {
            return Ok(None);
        };
        let path = source
            .strip_prefix("file://")
            .or_else(|| source.strip_prefix("file:"))
            .or_else(|| source.starts_with('/').then_some(source.as_str()))
            .ok_or_else(|| Pkcs11Error::PinSource {
                source: source.clone(),
            })?;
        let data = crate::files::read_file(
            std::path::Path::new(path),
            crate::files::CAP_PEM,
            "PIN file",
        )
        .map_err(|e| match e {
            crate::files::Error::Io { source, .. } => Pkcs11Error::PinFileRead {
                path: path.to_string(),
                source,
            },
            other => Pkcs11Error::PinFileRefused(other),
        })?;
        let text = std::str::from_utf8(&data).map_err(|_| Pkcs11Error::PinFileText {
            path: path.to_string(),
        })?;
        let line = text.lines().next().unwrap_or("");
        Ok(Some(Zeroizing::new(line.to_string())))
    }

    /// The URI as text, without any PIN (for messages and listings).
    pub fn to_uri_string(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut text = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{name}={}", percent_encode(v.as_bytes(), false)));
            }
        };
        text("token", &self.token);
        text("manufacturer", &self.manufacturer);
        text("model", &self.model);
        text("serial", &self.serial);
        text("slot-description", &self.slot_description);
        text("slot-manufacturer", &self.slot_manufacturer);
        if let Some(id) = self.slot_id {
            parts.push(format!("slot-id={id}"));
        }
        if let Some(id) = &self.id {
            parts.push(format!("id={}", percent_encode(id, true)));
        }
        if let Some(o) = &self.object {
            parts.push(format!("object={}", percent_encode(o.as_bytes(), false)));
        }
        if let Some(t) = &self.object_type {
            parts.push(format!("type={t}"));
        }
        format!("pkcs11:{}", parts.join(";"))
    }
}

/// Percent-encodes a value: every byte when `all`, else all but RFC 3986 unreserved characters.
pub fn percent_encode(bytes: &[u8], all: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        if !all && (b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_path_and_query() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;object=key%3B1;id=%01%ab;type=private;slot-id=3;x-foo=1?pin-value=12%334&module-name=x",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My Token"));
        assert_eq!(u.object.as_deref(), Some("key;1"));
        assert_eq!(u.id.as_deref(), Some(&[0x01, 0xab][..]));
        assert_eq!(u.slot_id, Some(3));
        assert_eq!(u.pin().unwrap().unwrap().as_str(), "1234");
        assert!(!format!("{u:?}").contains("1234"));
        assert_eq!(
            u.to_uri_string(),
            "pkcs11:token=My%20Token;slot-id=3;id=%01%AB;object=key%3B1;type=private"
        );
        assert!(Pkcs11Uri::parse("pkcs11:").is_ok());
    }

    #[test]
    fn errors() {
        let msg = |s: &str| Pkcs11Uri::parse(s).unwrap_err().message().to_string();
        assert_eq!(
            msg("pkcs12:token=a"),
            "Malformed pkcs11 URI: missing pcks11: prefix"
        );
        assert!(msg("pkcs11:token").contains("malformed path attribute"));
        assert!(msg("pkcs11:token=a;token=b").contains("duplicate path attribute token"));
        assert_eq!(msg("pkcs11:slot-id=abc"), "slot-id must be a number: abc");
        assert!(msg("pkcs11:type=foo").contains("unknown type"));
        assert!(msg("pkcs11:id=%zz").contains("bad %-escape"));
        assert!(msg("pkcs11:object=a?pin-value").contains("malformed query attribute"));
        assert!(msg("pkcs11:object=a?pin-value=1&pin-source=file:/x").contains("cannot both"));
        assert!(msg("pkcs11:lable=x").contains("unknown attribute"));
    }

    #[test]
    fn pin_source_file() {
        let dir = tempfile::tempdir().unwrap();
        let pin = dir.path().join("pin");
        std::fs::write(&pin, "5678\n").unwrap();
        for form in ["file:", "file://", ""] {
            let u = Pkcs11Uri::parse(&format!(
                "pkcs11:token=t?pin-source={form}{}",
                pin.display()
            ))
            .unwrap();
            assert_eq!(u.pin().unwrap().unwrap().as_str(), "5678");
        }
        let u = Pkcs11Uri::parse("pkcs11:token=t?pin-source=|/bin/echo").unwrap();
        assert!(u
            .pin()
            .unwrap_err()
            .message()
            .contains("unsupported pin-source"));
        let u = Pkcs11Uri::parse("pkcs11:token=t?pin-source=file:/nonexistent/pin").unwrap();
        assert!(u
            .pin()
            .unwrap_err()
            .message()
            .contains("cannot read the PIN file"));
    }
}
