//! The TPM 2.0 wire format for the few commands the signer sends (TPM 2.0 Library
//! Specification, Part 2 "Structures" and Part 3 "Commands"): big-endian integers, `TPM2B_*`
//! buffers with a 2-byte size, the command/response header (tag, size, code), the password
//! session (`TPM_RS_PW`), `TPMT_PUBLIC` for RSA and ECC keys and `TPMT_SIGNATURE` for RSASSA
//! and ECDSA. Nothing here does I/O.

use zeroize::Zeroizing;

/// Why bytes to or from the TPM are not what the wire format says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// `what` ends before its end.
    Truncated { what: String },
    /// A `TPM2B_*` buffer over 65535 bytes.
    TooLong,
    /// `n` bytes follow the `what`.
    Extra { n: usize, what: String },
    /// The `what` names an algorithm we do not know.
    UnknownScheme { what: String, alg: u16 },
    /// A public area of a type other than RSA or ECC.
    KeyType { alg: u16 },
    /// A signature of a type other than RSASSA or ECDSA.
    SignatureType { alg: u16 },
    /// A command over 4 GiB.
    CommandTooLarge,
    /// A password over 65535 bytes.
    PasswordTooLong,
    /// The response header says `size` bytes; `got` arrived.
    HeaderSize { size: u32, got: usize },
    /// The response tag is neither of the two.
    Tag { tag: u16 },
}

impl WireError {
    /// Nothing the user can do about a malformed exchange.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated { what } => write!(f, "malformed TPM data: {what} is truncated"),
            WireError::TooLong => f.write_str("a TPM2B buffer is longer than 65535 bytes"),
            WireError::Extra { n, what } => {
                write!(f, "malformed TPM data: {n} extra bytes after the {what}")
            }
            WireError::UnknownScheme { what, alg } => {
                write!(f, "malformed TPM data: unknown {what} {}", alg::name(*alg))
            }
            WireError::KeyType { alg } => write!(
                f,
                "unsupported TPMv2 key type: {} (neither RSA nor ECC)",
                alg::name(*alg)
            ),
            WireError::SignatureType { alg } => write!(
                f,
                "the TPM returned a {} signature, not the RSASSA or ECDSA one asked for",
                alg::name(*alg)
            ),
            WireError::CommandTooLarge => f.write_str("TPM command too large"),
            WireError::PasswordTooLong => f.write_str("the TPM password is too long"),
            WireError::HeaderSize { size, got } => write!(
                f,
                "malformed TPM response: header says {size} bytes, got {got}"
            ),
            WireError::Tag { tag } => write!(f, "malformed TPM response: tag 0x{tag:04x}"),
        }
    }
}

impl std::error::Error for WireError {}

crate::error::typed_error!(WireError);

type Result<T, E = WireError> = std::result::Result<T, E>;

/// Structure tags (`TPM_ST_*`).
pub const ST_NO_SESSIONS: u16 = 0x8001;
pub const ST_SESSIONS: u16 = 0x8002;
pub const ST_HASHCHECK: u16 = 0x8024;

/// The password authorisation session (`TPM_RS_PW`) and the null hierarchy (`TPM_RH_NULL`).
pub const RS_PW: u32 = 0x4000_0009;
pub const RH_NULL: u32 = 0x4000_0007;

/// Command codes (`TPM_CC_*`).
pub mod cc {
    pub const CREATE_PRIMARY: u32 = 0x0000_0131;
    pub const STARTUP: u32 = 0x0000_0144;
    pub const LOAD: u32 = 0x0000_0157;
    pub const SIGN: u32 = 0x0000_015d;
    pub const FLUSH_CONTEXT: u32 = 0x0000_0165;
    pub const READ_PUBLIC: u32 = 0x0000_0173;
}

/// Algorithm identifiers (`TPM_ALG_*`) and curves (`TPM_ECC_*`).
pub mod alg {
    pub const RSA: u16 = 0x0001;
    pub const AES: u16 = 0x0006;
    pub const KEYEDHASH: u16 = 0x0008;
    pub const SHA1: u16 = 0x0004;
    pub const SHA256: u16 = 0x000b;
    pub const SHA384: u16 = 0x000c;
    pub const SHA512: u16 = 0x000d;
    pub const NULL: u16 = 0x0010;
    pub const RSASSA: u16 = 0x0014;
    pub const RSAES: u16 = 0x0015;
    pub const RSAPSS: u16 = 0x0016;
    pub const OAEP: u16 = 0x0017;
    pub const ECDSA: u16 = 0x0018;
    pub const ECDH: u16 = 0x0019;
    pub const ECDAA: u16 = 0x001a;
    pub const SM2: u16 = 0x001b;
    pub const ECSCHNORR: u16 = 0x001c;
    pub const ECMQV: u16 = 0x001d;
    pub const MGF1: u16 = 0x0007;
    pub const KDF1_SP800_56A: u16 = 0x0020;
    pub const KDF2: u16 = 0x0021;
    pub const KDF1_SP800_108: u16 = 0x0022;
    pub const ECC: u16 = 0x0023;
    pub const SYMCIPHER: u16 = 0x0025;
    pub const CFB: u16 = 0x0043;

    pub const NIST_P256: u16 = 0x0003;
    pub const NIST_P384: u16 = 0x0004;
    pub const NIST_P521: u16 = 0x0005;

    /// A readable name, for messages.
    pub fn name(id: u16) -> String {
        match id {
            RSA => "RSA".into(),
            KEYEDHASH => "KEYEDHASH".into(),
            SHA1 => "SHA1".into(),
            SHA256 => "SHA256".into(),
            SHA384 => "SHA384".into(),
            SHA512 => "SHA512".into(),
            NULL => "NULL".into(),
            RSASSA => "RSASSA".into(),
            RSAES => "RSAES".into(),
            RSAPSS => "RSAPSS".into(),
            OAEP => "OAEP".into(),
            ECDSA => "ECDSA".into(),
            ECDH => "ECDH".into(),
            ECDAA => "ECDAA".into(),
            SM2 => "SM2".into(),
            ECSCHNORR => "ECSCHNORR".into(),
            ECC => "ECC".into(),
            SYMCIPHER => "SYMCIPHER".into(),
            other => format!("0x{other:04x}"),
        }
    }
}

/// Object attributes (`TPMA_OBJECT`).
pub mod attr {
    pub const FIXED_TPM: u32 = 1 << 1;
    pub const FIXED_PARENT: u32 = 1 << 4;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    pub const NO_DA: u32 = 1 << 10;
    pub const RESTRICTED: u32 = 1 << 16;
    pub const DECRYPT: u32 = 1 << 17;
    pub const SIGN: u32 = 1 << 18;
}

fn truncated(what: &str) -> WireError {
    WireError::Truncated {
        what: what.to_string(),
    }
}

/// Appends big-endian fields.
#[derive(Debug, Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    #[cfg(test)]
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A `TPM2B_*`: 2-byte size, then the bytes.
    pub fn tpm2b(&mut self, v: &[u8]) -> Result<&mut Self> {
        let size = u16::try_from(v.len()).map_err(|_| WireError::TooLong)?;
        self.u16(size);
        self.0.extend_from_slice(v);
        Ok(self)
    }
}

/// Reads big-endian fields; every read checks the length.
#[derive(Debug)]
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(|| truncated(what))?;
        self.0 = rest;
        Ok(head)
    }
    pub fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn tpm2b(&mut self, what: &str) -> Result<&'a [u8]> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }
    /// Fails if bytes are left over.
    pub fn finish(&self, what: &str) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError::Extra {
                n: self.0.len(),
                what: what.to_string(),
            })
        }
    }
}

/// A scheme (`TPMT_RSA_SCHEME`, `TPMT_ECC_SCHEME`, `TPMT_KDF_SCHEME`): the algorithm and the
/// details it carries (a hash for most; ECDAA adds a count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    pub alg: u16,
    /// `alg::NULL` when the scheme has no hash.
    pub hash: u16,
    /// ECDAA only.
    pub count: u16,
}

impl Scheme {
    pub const NULL: Scheme = Scheme {
        alg: alg::NULL,
        hash: alg::NULL,
        count: 0,
    };

    fn has_hash(alg: u16) -> bool {
        matches!(
            alg,
            alg::RSASSA
                | alg::RSAPSS
                | alg::OAEP
                | alg::ECDSA
                | alg::ECDH
                | alg::ECDAA
                | alg::SM2
                | alg::ECSCHNORR
                | alg::ECMQV
                | alg::MGF1
                | alg::KDF1_SP800_56A
                | alg::KDF2
                | alg::KDF1_SP800_108
        )
    }

    fn decode(r: &mut Reader, what: &str) -> Result<Scheme> {
        let alg = r.u16(what)?;
        let mut s = Scheme {
            alg,
            ..Scheme::NULL
        };
        if Scheme::has_hash(alg) {
            s.hash = r.u16(what)?;
            if alg == alg::ECDAA {
                s.count = r.u16(what)?;
            }
        } else if !matches!(alg, alg::NULL | alg::RSAES) {
            return Err(WireError::UnknownScheme {
                what: what.to_string(),
                alg,
            });
        }
        Ok(s)
    }

    fn encode(&self, w: &mut Writer) {
        w.u16(self.alg);
        if Scheme::has_hash(self.alg) {
            w.u16(self.hash);
            if self.alg == alg::ECDAA {
                w.u16(self.count);
            }
        }
    }
}

/// `TPMT_SYM_DEF_OBJECT`: `None` for `TPM_ALG_NULL`, else (algorithm, key bits, mode).
pub type SymDef = Option<(u16, u16, u16)>;

fn decode_sym(r: &mut Reader) -> Result<SymDef> {
    let a = r.u16("symmetric algorithm")?;
    if a == alg::NULL {
        return Ok(None);
    }
    Ok(Some((
        a,
        r.u16("symmetric key bits")?,
        r.u16("symmetric mode")?,
    )))
}

fn encode_sym(w: &mut Writer, sym: SymDef) {
    match sym {
        None => {
            w.u16(alg::NULL);
        }
        Some((a, bits, mode)) => {
            w.u16(a).u16(bits).u16(mode);
        }
    }
}

/// The type-specific part of a public area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    Rsa {
        symmetric: SymDef,
        scheme: Scheme,
        key_bits: u16,
        /// 0 means 65537.
        exponent: u32,
        modulus: Vec<u8>,
    },
    Ecc {
        symmetric: SymDef,
        scheme: Scheme,
        curve: u16,
        kdf: Scheme,
        x: Vec<u8>,
        y: Vec<u8>,
    },
}

/// `TPMT_PUBLIC` of an RSA or ECC key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Public {
    pub name_alg: u16,
    pub attributes: u32,
    pub auth_policy: Vec<u8>,
    pub params: Params,
}

impl Public {
    /// Parses a `TPMT_PUBLIC` (the contents of a `TPM2B_PUBLIC`), all of it.
    pub fn decode(data: &[u8]) -> Result<Public> {
        let mut r = Reader(data);
        let kind = r.u16("public area type")?;
        let name_alg = r.u16("name algorithm")?;
        let attributes = r.u32("object attributes")?;
        let auth_policy = r.tpm2b("auth policy")?.to_vec();
        let params = match kind {
            alg::RSA => {
                let symmetric = decode_sym(&mut r)?;
                let scheme = Scheme::decode(&mut r, "RSA scheme")?;
                let key_bits = r.u16("RSA key bits")?;
                let exponent = r.u32("RSA exponent")?;
                let modulus = r.tpm2b("RSA modulus")?.to_vec();
                Params::Rsa {
                    symmetric,
                    scheme,
                    key_bits,
                    exponent,
                    modulus,
                }
            }
            alg::ECC => {
                let symmetric = decode_sym(&mut r)?;
                let scheme = Scheme::decode(&mut r, "ECC scheme")?;
                let curve = r.u16("ECC curve")?;
                let kdf = Scheme::decode(&mut r, "KDF scheme")?;
                let x = r.tpm2b("ECC point x")?.to_vec();
                let y = r.tpm2b("ECC point y")?.to_vec();
                Params::Ecc {
                    symmetric,
                    scheme,
                    curve,
                    kdf,
                    x,
                    y,
                }
            }
            other => return Err(WireError::KeyType { alg: other }),
        };
        r.finish("public area")?;
        Ok(Public {
            name_alg,
            attributes,
            auth_policy,
            params,
        })
    }

    /// The `TPMT_PUBLIC` bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut w = Writer::default();
        let kind = match self.params {
            Params::Rsa { .. } => alg::RSA,
            Params::Ecc { .. } => alg::ECC,
        };
        w.u16(kind).u16(self.name_alg).u32(self.attributes);
        w.tpm2b(&self.auth_policy)?;
        match &self.params {
            Params::Rsa {
                symmetric,
                scheme,
                key_bits,
                exponent,
                modulus,
            } => {
                encode_sym(&mut w, *symmetric);
                scheme.encode(&mut w);
                w.u16(*key_bits).u32(*exponent);
                w.tpm2b(modulus)?;
            }
            Params::Ecc {
                symmetric,
                scheme,
                curve,
                kdf,
                x,
                y,
            } => {
                encode_sym(&mut w, *symmetric);
                scheme.encode(&mut w);
                w.u16(*curve);
                kdf.encode(&mut w);
                w.tpm2b(x)?.tpm2b(y)?;
            }
        }
        Ok(w.0)
    }

    /// The standard storage primary template (TCG TPM 2.0 Provisioning Guidance's SRK template,
    /// the one the TSS2 key file specification names for hierarchy parents): ECC P-256,
    /// AES-128-CFB, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|noDA|restricted|decrypt,
    /// SHA-256 names, no policy, empty unique.
    pub fn storage_primary() -> Public {
        Public {
            name_alg: alg::SHA256,
            attributes: attr::FIXED_TPM
                | attr::FIXED_PARENT
                | attr::SENSITIVE_DATA_ORIGIN
                | attr::USER_WITH_AUTH
                | attr::NO_DA
                | attr::RESTRICTED
                | attr::DECRYPT,
            auth_policy: Vec::new(),
            params: Params::Ecc {
                symmetric: Some((alg::AES, 128, alg::CFB)),
                scheme: Scheme::NULL,
                curve: alg::NIST_P256,
                kdf: Scheme::NULL,
                x: Vec::new(),
                y: Vec::new(),
            },
        }
    }
}

/// `TPMT_SIGNATURE`, for the two schemes the signer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    RsaSsa { hash: u16, sig: Vec<u8> },
    EcDsa { hash: u16, r: Vec<u8>, s: Vec<u8> },
}

impl Signature {
    pub fn decode(r: &mut Reader) -> Result<Signature> {
        let sig_alg = r.u16("signature algorithm")?;
        match sig_alg {
            alg::RSASSA => Ok(Signature::RsaSsa {
                hash: r.u16("signature hash")?,
                sig: r.tpm2b("RSA signature")?.to_vec(),
            }),
            alg::ECDSA => Ok(Signature::EcDsa {
                hash: r.u16("signature hash")?,
                r: r.tpm2b("ECDSA r")?.to_vec(),
                s: r.tpm2b("ECDSA s")?.to_vec(),
            }),
            other => Err(WireError::SignatureType { alg: other }),
        }
    }

    /// The wire form (tests and the fuzzer check decoding against it).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut w = Writer::default();
        match self {
            Signature::RsaSsa { hash, sig } => {
                w.u16(alg::RSASSA).u16(*hash).tpm2b(sig)?;
            }
            Signature::EcDsa { hash, r, s } => {
                w.u16(alg::ECDSA).u16(*hash).tpm2b(r)?.tpm2b(s)?;
            }
        }
        Ok(w.0)
    }
}

/// A whole command: header, handles, the password session when `password` is given, then
/// `params`. The buffer is sized up front (no reallocation leaves a copy of the password behind)
/// and zeroed when dropped.
pub fn command(
    code: u32,
    handles: &[u32],
    password: Option<&[u8]>,
    params: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    // TPMS_AUTH_COMMAND: handle, empty nonce, attributes, hmac (the password).
    let session_len = password.map(|p| 4 + 2 + 1 + 2 + p.len());
    let total = 10 + 4 * handles.len() + session_len.map_or(0, |n| 4 + n) + params.len();
    let size = u32::try_from(total).map_err(|_| WireError::CommandTooLarge)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(total));
    let tag = if password.is_some() {
        ST_SESSIONS
    } else {
        ST_NO_SESSIONS
    };
    buf.extend_from_slice(&tag.to_be_bytes());
    buf.extend_from_slice(&size.to_be_bytes());
    buf.extend_from_slice(&code.to_be_bytes());
    for h in handles {
        buf.extend_from_slice(&h.to_be_bytes());
    }
    if let (Some(p), Some(n)) = (password, session_len) {
        let p_len = u16::try_from(p.len()).map_err(|_| WireError::PasswordTooLong)?;
        // n <= total, which fits in u32 (checked above).
        buf.extend_from_slice(&(n as u32).to_be_bytes());
        buf.extend_from_slice(&RS_PW.to_be_bytes());
        buf.extend_from_slice(&0u16.to_be_bytes());
        buf.push(0);
        buf.extend_from_slice(&p_len.to_be_bytes());
        buf.extend_from_slice(p);
    }
    buf.extend_from_slice(params);
    debug_assert_eq!(buf.len(), total);
    Ok(buf)
}

/// A TPM response code that is not `TPM_RC_SUCCESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rc(pub u32);

/// Masked response codes (`TPM_RC_*`, without the handle/session/parameter number bits).
pub mod rc {
    pub const INITIALIZE: u32 = 0x100;
    pub const HANDLE: u32 = 0x08b;
    pub const VALUE: u32 = 0x084;
    pub const AUTH_FAIL: u32 = 0x08e;
    pub const INTEGRITY: u32 = 0x09f;
    pub const BAD_AUTH: u32 = 0x0a2;
    pub const YIELDED: u32 = 0x908;
    pub const TESTING: u32 = 0x90a;
    pub const LOCKOUT: u32 = 0x921;
    pub const RETRY: u32 = 0x922;
}

impl Rc {
    /// The code without its number bits: format-one codes (bit 7) keep bit 7 and the error
    /// number (bits 0-5), dropping the parameter flag (bit 6) and the handle, session or
    /// parameter index (bits 8-11); format-zero codes keep the version, warning and number bits.
    /// Codes from a software layer (bits 16-23, e.g. a resource manager) are kept whole.
    pub fn code(self) -> u32 {
        let rc = self.0;
        if rc >> 16 != 0 {
            rc
        } else if rc & 0x80 != 0 {
            rc & 0xbf
        } else {
            rc & 0xf7f
        }
    }

    /// What the index bits of a format-one code point at (`handle 1`, `session 1`,
    /// `parameter 2`).
    fn subject(self) -> Option<String> {
        let rc = self.0;
        if rc >> 16 != 0 || rc & 0x80 == 0 {
            return None;
        }
        let n = (rc >> 8) & 0xf;
        if rc & 0x40 != 0 {
            Some(format!("parameter {n}"))
        } else if n & 8 != 0 {
            Some(format!("session {}", n & 7))
        } else if n != 0 {
            Some(format!("handle {n}"))
        } else {
            None
        }
    }

    pub fn is_bad_auth(self) -> bool {
        matches!(self.code(), rc::AUTH_FAIL | rc::BAD_AUTH)
    }

    /// The spec's name and meaning, when known.
    fn known(self) -> Option<(&'static str, &'static str)> {
        Some(match self.code() {
            0x100 => ("TPM_RC_INITIALIZE", "the TPM is not initialised (TPM2_Startup was not sent)"),
            0x101 => ("TPM_RC_FAILURE", "the TPM is in failure mode"),
            0x125 => ("TPM_RC_AUTH_MISSING", "an authorisation session is missing"),
            0x143 => ("TPM_RC_COMMAND_CODE", "the TPM does not implement this command"),
            0x082 => ("TPM_RC_ATTRIBUTES", "inconsistent attributes"),
            0x083 => ("TPM_RC_HASH", "hash algorithm not supported or not appropriate"),
            0x084 => ("TPM_RC_VALUE", "value is out of range or not correct for the context"),
            0x085 => ("TPM_RC_HIERARCHY", "the hierarchy is disabled or not correct for the use"),
            0x087 => ("TPM_RC_KEY_SIZE", "key size not supported"),
            0x08a => ("TPM_RC_TYPE", "the type of the value is not appropriate for the use"),
            0x08b => ("TPM_RC_HANDLE", "the handle is not correct for the use"),
            0x08e => ("TPM_RC_AUTH_FAIL", "the authorisation HMAC check failed"),
            0x092 => ("TPM_RC_SCHEME", "unsupported or incompatible scheme"),
            0x095 => ("TPM_RC_SIZE", "structure is the wrong size"),
            0x096 => ("TPM_RC_SYMMETRIC", "unsupported symmetric algorithm or key size"),
            0x09c => ("TPM_RC_KEY", "the key is not compatible with the selected use"),
            0x09d => ("TPM_RC_POLICY_FAIL", "a policy check failed"),
            0x09f => ("TPM_RC_INTEGRITY", "integrity check failed"),
            0x0a2 => ("TPM_RC_BAD_AUTH", "authorisation failure without DA implications"),
            0x0a6 => ("TPM_RC_CURVE", "the curve is not supported"),
            0x902 => ("TPM_RC_OBJECT_MEMORY", "out of memory for object contexts"),
            0x903 => ("TPM_RC_SESSION_MEMORY", "out of memory for session contexts"),
            0x904 => ("TPM_RC_MEMORY", "out of shared object/session memory"),
            0x908 => ("TPM_RC_YIELDED", "the TPM has suspended operation on the command"),
            0x909 => ("TPM_RC_CANCELED", "the command was cancelled"),
            0x90a => ("TPM_RC_TESTING", "the TPM is performing self-tests"),
            0x921 => (
                "TPM_RC_LOCKOUT",
                "authorizations for objects subject to DA protection are not allowed at this time because the TPM is in DA lockout mode",
            ),
            0x922 => ("TPM_RC_RETRY", "the TPM was not able to start the command"),
            0x923 => ("TPM_RC_NV_UNAVAILABLE", "the command may require writing of NV and NV is not currently accessible"),
            c if (0x910..=0x916).contains(&c) => {
                ("TPM_RC_REFERENCE_H", "a handle references an object or session that is not loaded")
            }
            _ => return None,
        })
    }
}

impl std::fmt::Display for Rc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.known() {
            Some((name, meaning)) => write!(f, "{name} (0x{:08x}): {meaning}", self.0)?,
            None if self.0 >> 16 != 0 => write!(
                f,
                "TPM software stack error 0x{:08x} (layer {})",
                self.0,
                self.0 >> 16
            )?,
            None => write!(f, "TPM response code 0x{:08x}", self.0)?,
        }
        if let Some(s) = self.subject() {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

/// Why a command failed: the TPM said no, the exchange was malformed, or the TPM could not be
/// reached.
#[derive(Debug)]
pub enum Failure {
    Tpm(Rc),
    Wire(WireError),
    Transport(super::transport::TransportError),
}

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        Failure::Wire(e)
    }
}

impl From<super::transport::TransportError> for Failure {
    fn from(e: super::transport::TransportError) -> Self {
        Failure::Transport(e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Tpm(code) => code.fmt(f),
            Failure::Wire(e) => e.fmt(f),
            Failure::Transport(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Tpm(_) => None,
            Failure::Wire(e) => Some(e),
            Failure::Transport(e) => Some(e),
        }
    }
}

/// A successful response: its handles and its parameter area.
#[derive(Debug)]
pub struct Response<'a> {
    pub handles: Vec<u32>,
    pub params: Reader<'a>,
}

/// Checks a response's header: its size, and its response code. Returns the tag.
pub fn check_header(data: &[u8]) -> std::result::Result<u16, Failure> {
    let mut r = Reader(data);
    let tag = r.u16("response header")?;
    let size = r.u32("response header")?;
    let code = r.u32("response header")?;
    if usize::try_from(size).ok() != Some(data.len()) {
        return Err(WireError::HeaderSize {
            size,
            got: data.len(),
        }
        .into());
    }
    if code != 0 {
        return Err(Failure::Tpm(Rc(code)));
    }
    Ok(tag)
}

/// Checks a response's header and splits it (`handles`: how many the command returns).
pub fn response(data: &[u8], handles: usize) -> std::result::Result<Response<'_>, Failure> {
    let tag = check_header(data)?;
    let mut r = Reader(&data[10..]);
    let mut out = Vec::with_capacity(handles);
    for _ in 0..handles {
        out.push(r.u32("response handle")?);
    }
    let params = match tag {
        ST_SESSIONS => {
            let n = r.u32("parameter size")?;
            let n = usize::try_from(n).map_err(|_| truncated("parameter area"))?;
            // The authorisation area (one TPMS_AUTH_RESPONSE per session) follows; a password
            // session's response carries nothing to check.
            Reader(r.take(n, "parameter area")?)
        }
        ST_NO_SESSIONS => r,
        other => return Err(WireError::Tag { tag: other }.into()),
    };
    Ok(Response {
        handles: out,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecc_key() -> Public {
        Public {
            name_alg: alg::SHA256,
            attributes: attr::SIGN | attr::USER_WITH_AUTH | attr::FIXED_TPM,
            auth_policy: vec![],
            params: Params::Ecc {
                symmetric: None,
                scheme: Scheme {
                    alg: alg::ECDSA,
                    hash: alg::SHA384,
                    count: 0,
                },
                curve: alg::NIST_P384,
                kdf: Scheme::NULL,
                x: vec![1; 48],
                y: vec![2; 48],
            },
        }
    }

    #[test]
    fn public_areas_round_trip() {
        let rsa = Public {
            name_alg: alg::SHA256,
            attributes: 0x0006_0072,
            auth_policy: vec![9; 32],
            params: Params::Rsa {
                symmetric: None,
                scheme: Scheme {
                    alg: alg::RSASSA,
                    hash: alg::SHA256,
                    count: 0,
                },
                key_bits: 2048,
                exponent: 0,
                modulus: vec![0xab; 256],
            },
        };
        let ecdaa = Public {
            params: Params::Ecc {
                symmetric: Some((alg::AES, 128, alg::CFB)),
                scheme: Scheme {
                    alg: alg::ECDAA,
                    hash: alg::SHA256,
                    count: 7,
                },
                curve: alg::NIST_P256,
                kdf: Scheme {
                    alg: alg::KDF2,
                    hash: alg::SHA256,
                    count: 0,
                },
                x: vec![],
                y: vec![],
            },
            ..ecc_key()
        };
        for p in [rsa, ecc_key(), ecdaa, Public::storage_primary()] {
            let bytes = p.encode().unwrap();
            assert_eq!(Public::decode(&bytes).unwrap(), p);
            // Every strict prefix is refused, and so is a trailing byte.
            for n in 0..bytes.len() {
                assert!(Public::decode(&bytes[..n]).is_err(), "prefix {n}");
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(Public::decode(&long).is_err());
        }
    }

    #[test]
    fn garbage_never_panics() {
        // Deterministic pseudo-random inputs (xorshift), plus every mutation of one valid area.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 80) as usize;
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = Public::decode(&data);
            let _ = Signature::decode(&mut Reader(&data));
            let _ = response(&data, (next() % 3) as usize);
        }
        let valid = ecc_key().encode().unwrap();
        for i in 0..valid.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut v = valid.clone();
                v[i] = b;
                let _ = Public::decode(&v);
            }
        }
    }

    #[test]
    fn storage_primary_template_bytes() {
        // TPMT_PUBLIC of the TCG SRK template (as tpm2_createprimary -G ecc256:aes128cfb makes).
        assert_eq!(
            hex::encode(Public::storage_primary().encode().unwrap()),
            "0023000b000304720000000600800043001000030010\
             00000000"
        );
    }

    #[test]
    fn signatures_round_trip() {
        for s in [
            Signature::RsaSsa {
                hash: alg::SHA512,
                sig: vec![5; 256],
            },
            Signature::EcDsa {
                hash: alg::SHA256,
                r: vec![1; 32],
                s: vec![2; 31],
            },
        ] {
            let bytes = s.encode().unwrap();
            let mut r = Reader(&bytes);
            assert_eq!(Signature::decode(&mut r).unwrap(), s);
            r.finish("signature").unwrap();
        }
        let hmac = [0x00, 0x05, 0x00, 0x0b];
        assert_eq!(
            Signature::decode(&mut Reader(&hmac)).unwrap_err(),
            WireError::SignatureType { alg: 0x0005 }
        );
        assert!(WireError::SignatureType { alg: 0x0005 }
            .to_string()
            .contains("0x0005 signature"));
    }

    #[test]
    fn sign_command_golden_bytes() {
        // TPM2_Sign(0x81000001, password "pw", 32-byte digest, ECDSA-SHA256, null ticket).
        let mut params = Writer::default();
        params.tpm2b(&[0x11; 32]).unwrap();
        params.u16(alg::ECDSA).u16(alg::SHA256);
        params.u16(ST_HASHCHECK).u32(RH_NULL).tpm2b(&[]).unwrap();
        let cmd = command(cc::SIGN, &[0x8100_0001], Some(b"pw"), &params.0).unwrap();
        let expected = format!(
            "8002{size:08x}0000015d81000001\
             0000000b4000000900000000027077\
             0020{digest}\
             0018000b\
             8024400000070000",
            size = 10 + 4 + 4 + 11 + 34 + 4 + 8,
            digest = "11".repeat(32),
        );
        assert_eq!(hex::encode(&*cmd), expected);
        // No session: the other tag and no authorisation area.
        let cmd = command(cc::READ_PUBLIC, &[0x8100_0001], None, &[]).unwrap();
        assert_eq!(hex::encode(&*cmd), "80010000000e0000017381000001");
    }

    #[test]
    fn responses() {
        // Load's response: handle, parameter size, name, then a password session's auth.
        let mut w = Writer::default();
        w.u16(ST_SESSIONS).u32(0).u32(0).u32(0x8000_0001).u32(4);
        w.tpm2b(&[0xaa, 0xbb]).unwrap();
        w.u16(0).u8(1).u16(0);
        let len = w.0.len() as u32;
        w.0[2..6].copy_from_slice(&len.to_be_bytes());
        let mut resp = response(&w.0, 1).unwrap();
        assert_eq!(resp.handles, vec![0x8000_0001]);
        assert_eq!(resp.params.tpm2b("name").unwrap(), &[0xaa, 0xbb]);
        resp.params.finish("name").unwrap();
        // An error: TPM_RC_BAD_AUTH on session 1 (0x9a2), TPM_RC_AUTH_FAIL on session 1 (0x98e).
        for (code, bad_auth) in [(0x9a2, true), (0x98e, true), (0x18b, false), (0x921, false)] {
            let mut e = Writer::default();
            e.u16(ST_NO_SESSIONS).u32(10).u32(code);
            match response(&e.0, 0) {
                Err(Failure::Tpm(rc)) => assert_eq!(rc.is_bad_auth(), bad_auth, "{rc}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            Rc(0x9a2).to_string(),
            "TPM_RC_BAD_AUTH (0x000009a2): authorisation failure without DA implications (session 1)"
        );
        assert_eq!(Rc(0x18b).code(), rc::HANDLE);
        assert!(Rc(0x18b).to_string().contains("(handle 1)"));
        assert!(Rc(0x921).to_string().contains("DA lockout"));
        assert_eq!(
            Rc(0x1c4).to_string().split(' ').next(),
            Some("TPM_RC_VALUE")
        );
        assert!(Rc(0x1c4).to_string().ends_with("(parameter 1)"));
        // A header whose size disagrees with the data.
        assert!(matches!(
            response(&[0x80, 0x01, 0, 0, 0, 11, 0, 0, 0, 0], 0),
            Err(Failure::Wire(WireError::HeaderSize { size: 11, got: 10 }))
        ));
        assert!(matches!(
            response(&[0x80], 0),
            Err(Failure::Wire(WireError::Truncated { .. }))
        ));
    }
}
