//! The error the library hands to the binary.
//!
//! Every error is shown to the user as one line on stderr. Its text says what failed, names the
//! file or flag involved, and (where there is something to do) ends with what to do about it.
//! Layers with failures of their own keep them typed (`protocol::http::SendError`,
//! `TransportError`, the services' `ServiceError`s, `files::Error`) and convert at their edge;
//! the typed cause stays reachable through [`std::error::Error::source`]. Secrets never appear
//! in an error message.

use std::fmt;
use std::sync::Arc;

/// The typed cause of an [`Error`].
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// An error the user sees as one line on stderr.
#[derive(Debug, Clone)]
pub struct Error {
    message: String,
    hint: Option<String>,
    source: Option<Cause>,
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message && self.hint == other.hint
    }
}

impl Eq for Error {}

impl Error {
    /// An error with the given message (what failed, and which file or flag).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Adds what the user can do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Keeps the typed error this one was rendered from.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The message without the hint.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the user can do, if anything.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.hint {
            Some(hint) => write!(f, "{} (hint: {hint})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a JSON document that may hold secrets (credentials answers, `credential_process`
/// output, sign-in tokens) does not parse, without any of its text: serde_json's own messages
/// quote the values they reject (`invalid type: string "…"`), which may be a key or a token.
/// Only the kind of problem and where it is are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonProblem {
    kind: JsonProblemKind,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonProblemKind {
    Syntax,
    Eof,
    Shape,
    Read,
}

impl From<serde_json::Error> for JsonProblem {
    fn from(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        JsonProblem {
            kind: match e.classify() {
                Category::Syntax => JsonProblemKind::Syntax,
                Category::Eof => JsonProblemKind::Eof,
                Category::Data => JsonProblemKind::Shape,
                Category::Io => JsonProblemKind::Read,
            },
            line: e.line(),
            column: e.column(),
        }
    }
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            JsonProblemKind::Syntax => "not valid JSON",
            JsonProblemKind::Eof => "JSON that ends too early",
            JsonProblemKind::Shape => "JSON of another shape than expected",
            JsonProblemKind::Read => "unreadable",
        };
        write!(f, "{what} (line {}, column {})", self.line, self.column)
    }
}

impl std::error::Error for JsonProblem {}

/// `impl From<$ty> for Error` for a layer's typed error with a `hint(&self) -> Option<_>`
/// method: the message is its `Display`, the hint its `hint()`, and the typed error stays
/// reachable as the source.
macro_rules! typed_error {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for $crate::error::Error {
            fn from(e: $ty) -> Self {
                let out = $crate::error::Error::new(e.to_string());
                let out = match e.hint() {
                    Some(h) => out.hint(h),
                    None => out,
                };
                out.with_source(e)
            }
        }
    )+};
}
pub(crate) use typed_error;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::FileError;
    use crate::serve::ServeError;

    /// Whether a `T` is somewhere in `e`'s chain of causes.
    fn reaches<T: std::error::Error + 'static>(e: &Error) -> bool {
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            if c.is::<T>() {
                return true;
            }
            cause = c.source();
        }
        false
    }

    #[test]
    fn json_problems_never_quote_the_document() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET";
        for doc in [
            format!("{{\"credentials\": \"{secret}\"}}"),
            format!("[\"{secret}\""),
            format!("{{\"a\": {secret}}}"),
        ] {
            #[derive(Debug, serde::Deserialize)]
            #[allow(dead_code)]
            struct Shape {
                credentials: std::collections::BTreeMap<String, String>,
            }
            let e = serde_json::from_str::<Shape>(&doc).unwrap_err();
            // serde_json's own text would quote it.
            let p = JsonProblem::from(e);
            assert!(!p.to_string().contains("wJalr"), "{p}");
            assert!(p.to_string().contains("(line 1, column"), "{p}");
        }
        let e = serde_json::from_str::<u8>("\"x\"").unwrap_err();
        assert_eq!(
            JsonProblem::from(e).to_string(),
            "JSON of another shape than expected (line 1, column 3)"
        );
    }

    #[test]
    fn typed_errors_render_one_line_and_stay_reachable() {
        let e: Error = FileError::NoCertificate.into();
        assert_eq!(
            e.to_string(),
            "undefined certificate value (hint: pass --certificate)"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<FileError>()),
            Some(FileError::NoCertificate)
        ));
        // Nested: a binding's token file refused by the safe-file layer.
        let e: Error = ServeError::Binding {
            name: "a".into(),
            source: Box::new(ServeError::TokenFile(crate::files::Error::Symlink {
                path: "/x/t".into(),
            })),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "binding \"a\": cannot write the container token file: refusing to write /x/t: it is a symbolic link (hint: pass --container-token-file with a path in a private directory you own)"
        );
        assert!(reaches::<crate::files::Error>(&e));
        // A key-file problem names the file once, before the parser's message.
        let e = crate::identity::tpm::TpmKeyFile::from_pem(
            b"-----BEGIN TSS2 PRIVATE KEY-----\nMAA=\n-----END TSS2 PRIVATE KEY-----\n",
            "k.pem",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "k.pem: could not parse TPMv2 key file: no type"
        );
        assert!(reaches::<crate::identity::tpm::TpmError>(&e));
    }
}
