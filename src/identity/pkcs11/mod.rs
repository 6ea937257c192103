//! Keys and certificates on PKCS#11 tokens: YubiKey PIV, HSMs, SoftHSM2.
//!
//! The module is `--pkcs11-lib`, else the URI's `module-path`, else `p11-kit-proxy.so`. Loading
//! it runs its code, so a module named by a path is loaded only when it is trusted as the shared
//! AWS files are (`check_module`).
//! The certificate comes from a `pkcs11:` URI in `--certificate` (searched without logging in
//! first) or from a file (hybrid); the key from `--private-key`'s URI, or from the certificate's
//! URI narrowed to the certificate's CKA_ID. A candidate key is only used after a test signature
//! verifies with the certificate's public key.
//!
//! PIN sources, first wins: the key URI's `pin-value`/`pin-source`, the certificate URI's, the
//! `AWS_SIGNING_HELPER_PKCS11_PIN` environment variable, a prompt on the terminal. A PIN that did
//! not come from the prompt is never retried (tokens lock after a few wrong PINs). PINs live in
//! zeroizing memory and appear in no message.
//!
//! Every signature opens a session, logs in if the token needs it, finds the key again (by the
//! CKA_ID/CKA_LABEL chosen at start-up) and signs: long-running `serve`/`update` survive token
//! re-insertion. RSA uses CKM_SHA*_RSA_PKCS when the token has it, else CKM_RSA_PKCS over a
//! DigestInfo; EC hashes locally and uses CKM_ECDSA, converting r‖s to DER.

pub mod error;
mod ffi;
pub mod uri;

use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType as CkKeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use zeroize::Zeroizing;

use super::file::{PasswordPrompts, Prompter, TerminalPrompter};
use super::{chain, Certificate, Curve, Digest, Identity, KeyType, Signer};
use crate::error::Result;
use crate::identity::KeySpec;
use error::ck;
pub use error::Pkcs11Error;
pub use uri::Pkcs11Uri;

/// The environment variable that may hold the user PIN.
pub const PIN_ENV: &str = "AWS_SIGNING_HELPER_PKCS11_PIN";

/// The module loaded when neither `--pkcs11-lib` nor `module-path` is given.
pub const DEFAULT_MODULE: &str = "p11-kit-proxy.so";

const USER_PIN_PROMPTS: PasswordPrompts = PasswordPrompts {
    first: "Please enter your user PIN:",
    retry: "Incorrect user PIN. Please re-enter your user PIN:",
    what: "PKCS#11 user PIN",
};

/// A loaded, initialised module.
#[derive(Clone)]
struct Module {
    ctx: Pkcs11,
    path: String,
}

fn open_module(lib: &str, uri: &Pkcs11Uri) -> Result<Module> {
    let path = if !lib.is_empty() {
        lib.to_string()
    } else {
        uri.module_path
            .clone()
            .unwrap_or_else(|| DEFAULT_MODULE.to_string())
    };
    check_module(&path)?;
    let ctx = Pkcs11::new(&path).map_err(|source| Pkcs11Error::Module {
        path: path.clone(),
        source,
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(ck(format!("cannot initialise PKCS#11 module {path}"), e).into()),
    }
    Ok(Module { ctx, path })
}

/// Loading a module runs its code with our rights (often root's), so a module named by a path
/// (one with a `/`) must be trusted as the shared files are: ours or root's, writable by nobody
/// else, in directories nobody else can write. Once checked, nobody else can swap it before the
/// loader opens it. A bare name (the default `p11-kit-proxy.so`) is found by the dynamic
/// loader in the system's library directories, whose trust is the loader's (and the system's)
/// business. A module that cannot be opened is left to the loader, whose error we keep.
fn check_module(path: &str) -> std::result::Result<(), Pkcs11Error> {
    if !path.contains('/') {
        return Ok(());
    }
    crate::files::shared_files::check_trusted_path(std::path::Path::new(path), "PKCS#11 module")
        .map_err(Pkcs11Error::ModuleUntrusted)
}

/// A slot whose token matches the URI, with what we print and match.
#[derive(Clone)]
struct TokenSlot {
    slot: Slot,
    label: String,
    manufacturer: String,
    model: String,
    serial: String,
    login_required: bool,
}

fn matching_slots(module: &Module, uri: &Pkcs11Uri) -> Result<Vec<TokenSlot>> {
    let slots = module
        .ctx
        .get_slots_with_token()
        .map_err(|e| ck("cannot list PKCS#11 slots", e))?;
    let mut out = Vec::new();
    for slot in slots {
        let Ok(token) = module.ctx.get_token_info(slot) else {
            continue;
        };
        if !token.token_initialized() {
            continue;
        }
        let Ok(info) = module.ctx.get_slot_info(slot) else {
            continue;
        };
        let t = |s: &str| s.trim_end_matches([' ', '\0']).to_string();
        let eq = |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| *w == t(have));
        if !eq(&uri.token, token.label())
            || !eq(&uri.manufacturer, token.manufacturer_id())
            || !eq(&uri.model, token.model())
            || !eq(&uri.serial, token.serial_number())
            || !eq(&uri.slot_description, info.slot_description())
            || !eq(&uri.slot_manufacturer, info.manufacturer_id())
            || uri.slot_id.is_some_and(|id| id != slot.id())
        {
            continue;
        }
        out.push(TokenSlot {
            slot,
            label: t(token.label()),
            manufacturer: t(token.manufacturer_id()),
            model: t(token.model()),
            serial: t(token.serial_number()),
            login_required: token.login_required(),
        });
    }
    Ok(out)
}

/// A certificate found on a token.
#[derive(Clone)]
struct TokenCert {
    cert: Certificate,
    id: Vec<u8>,
    label: String,
    slot: TokenSlot,
}

impl TokenCert {
    fn uri(&self) -> String {
        Pkcs11Uri {
            token: Some(self.slot.label.clone()),
            manufacturer: Some(self.slot.manufacturer.clone()),
            model: Some(self.slot.model.clone()),
            serial: Some(self.slot.serial.clone()),
            id: (!self.id.is_empty()).then(|| self.id.clone()),
            object: (!self.label.is_empty()).then(|| self.label.clone()),
            object_type: Some("cert".into()),
            ..Pkcs11Uri::default()
        }
        .to_uri_string()
    }
}

fn search_template(
    class: ObjectClass,
    uri_id: Option<&[u8]>,
    label: Option<&str>,
) -> Vec<Attribute> {
    let mut template = vec![Attribute::Class(class)];
    if class == ObjectClass::CERTIFICATE {
        template.push(Attribute::CertificateType(CertificateType::X_509));
    }
    if let Some(id) = uri_id {
        template.push(Attribute::Id(id.to_vec()));
    }
    if let Some(label) = label {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    template
}

fn id_and_label(session: &Session, handle: ObjectHandle) -> (Vec<u8>, String) {
    let mut id = Vec::new();
    let mut label = String::new();
    if let Ok(attrs) = session.get_attributes(handle, &[AttributeType::Id, AttributeType::Label]) {
        for a in attrs {
            match a {
                Attribute::Id(v) => id = v,
                Attribute::Label(v) => label = String::from_utf8_lossy(&v).into_owned(),
                _ => {}
            }
        }
    }
    (id, label)
}

fn certs_in_session(
    session: &Session,
    slot: &TokenSlot,
    id: Option<&[u8]>,
    label: Option<&str>,
) -> Result<Vec<TokenCert>> {
    let handles = session
        .find_objects(&search_template(ObjectClass::CERTIFICATE, id, label))
        .map_err(|e| {
            ck(
                format!("cannot search token {:?} for certificates", slot.label),
                e,
            )
        })?;
    let mut out = Vec::new();
    for handle in handles {
        let Ok(attrs) = session.get_attributes(handle, &[AttributeType::Value]) else {
            continue;
        };
        let Some(der) = attrs.into_iter().find_map(|a| match a {
            Attribute::Value(v) => Some(v),
            _ => None,
        }) else {
            continue;
        };
        // Objects that do not parse as X.509 are skipped, as a token may hold anything.
        let Ok(cert) = Certificate::from_der(&der) else {
            continue;
        };
        let (cid, clabel) = id_and_label(session, handle);
        out.push(TokenCert {
            cert,
            id: cid,
            label: clabel,
            slot: slot.clone(),
        });
    }
    Ok(out)
}

/// Where PINs come from (non-interactive first), and the prompt as the last resort.
struct Pins {
    user: Option<Zeroizing<String>>,
    /// Whether `user` came from the URI or the environment (then a wrong PIN is not retried).
    given: bool,
}

impl Pins {
    fn resolve(key_uri: Option<&Pkcs11Uri>, cert_uri: Option<&Pkcs11Uri>) -> Result<Pins> {
        for uri in [key_uri, cert_uri].into_iter().flatten() {
            if let Some(pin) = uri.pin()? {
                return Ok(Pins {
                    user: Some(pin),
                    given: true,
                });
            }
        }
        if let Ok(pin) = std::env::var(PIN_ENV) {
            if !pin.is_empty() {
                return Ok(Pins {
                    user: Some(Zeroizing::new(pin)),
                    given: true,
                });
            }
        }
        Ok(Pins {
            user: None,
            given: false,
        })
    }
}

/// Logs the session in as the user, prompting if no PIN was given. Remembers a prompted PIN.
fn login_user(session: &Session, slot: &TokenSlot, pins: &mut Pins) -> Result<()> {
    let token = &slot.label;
    if let Some(pin) = &pins.user {
        return match do_login(session, UserType::User, pin) {
            Ok(()) => Ok(()),
            Err(RvError::PinIncorrect) => Err(Pkcs11Error::PinIncorrect {
                token: token.clone(),
                given: pins.given,
            }
            .into()),
            Err(rv) => Err(Pkcs11Error::Login {
                token: token.clone(),
                rv,
            }
            .into()),
        };
    }
    let mut prompter = TerminalPrompter;
    let mut result: Option<Result<Zeroizing<String>>> = None;
    for attempt in 0..3 {
        let prompt = if attempt == 0 {
            USER_PIN_PROMPTS.first
        } else {
            USER_PIN_PROMPTS.retry
        };
        let Some(pin) = prompter.ask(prompt) else {
            return Err(Pkcs11Error::NoPin {
                token: token.clone(),
                at_login: true,
            }
            .into());
        };
        match do_login(session, UserType::User, &pin) {
            Ok(()) => {
                result = Some(Ok(pin));
                break;
            }
            Err(RvError::PinIncorrect) => continue,
            Err(rv) => {
                result = Some(Err(Pkcs11Error::Login {
                    token: token.clone(),
                    rv,
                }
                .into()));
                break;
            }
        }
    }
    match result {
        Some(Ok(pin)) => {
            pins.user = Some(pin);
            Ok(())
        }
        Some(Err(e)) => Err(e),
        None => Err(Pkcs11Error::PinGaveUp {
            token: token.clone(),
        }
        .into()),
    }
}

fn do_login(session: &Session, user: UserType, pin: &str) -> std::result::Result<(), RvError> {
    let secret = cryptoki::types::AuthPin::from(pin);
    match session.login(user, Some(&secret)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(rv, _)) => Err(rv),
        Err(_) => Err(RvError::GeneralError),
    }
}

/// The certificates matching `uri`'s id/label on each slot, read without logging in.
fn public_certs(module: &Module, slots: &[TokenSlot], uri: &Pkcs11Uri) -> Result<Vec<TokenCert>> {
    let mut found = Vec::new();
    for slot in slots {
        let session = module.ctx.open_ro_session(slot.slot).map_err(|e| {
            ck(
                format!("cannot open a session on token {:?}", slot.label),
                e,
            )
        })?;
        found.extend(certs_in_session(
            &session,
            slot,
            uri.id.as_deref(),
            uri.object.as_deref(),
        )?);
    }
    Ok(found)
}

/// Lists the certificates a URI matches, each with a URI that selects it (read-certificate-data).
pub fn list_certificates(uri_text: &str, lib: &str) -> Result<Vec<(Certificate, String)>> {
    let uri = Pkcs11Uri::parse(uri_text)?;
    let module = open_module(lib, &uri)?;
    let slots = matching_slots(&module, &uri)?;
    let mut found = public_certs(&module, &slots, &uri)?;
    // Nothing public: like the official tool (pkcs11_signer.go getMatchingCerts), log in only
    // when exactly one token matched and a PIN was given, and fail (exit 1) otherwise. A login
    // that still finds nothing is an empty listing (exit 0), as there.
    if found.is_empty() {
        let shown = display_uri(uri_text);
        match slots.len() {
            0 => return Err(Pkcs11Error::NoSlots { what: shown }.into()),
            1 => {}
            n => return Err(Pkcs11Error::ManySlots { n, uri: shown }.into()),
        }
        let mut pins = Pins::resolve(None, Some(&uri))?;
        if pins.user.is_none() {
            return Err(Pkcs11Error::NoPinToList {
                token: slots[0].label.clone(),
                uri: shown,
            }
            .into());
        }
        {
            let slot = &slots[0];
            let session = module.ctx.open_ro_session(slot.slot).map_err(|e| {
                ck(
                    format!("cannot open a session on token {:?}", slot.label),
                    e,
                )
            })?;
            login_user(&session, slot, &mut pins)?;
            found = certs_in_session(&session, slot, uri.id.as_deref(), uri.object.as_deref())?;
        }
    }
    Ok(found
        .into_iter()
        .map(|c| {
            let u = c.uri();
            (c.cert, u)
        })
        .collect())
}

/// Loads the identity for `pkcs11:` flags: token certificate and/or token key.
pub fn load(spec: &KeySpec, purpose: super::source::Purpose) -> Result<Identity> {
    let cert_uri = if spec.certificate.starts_with("pkcs11:") {
        Some(Pkcs11Uri::parse(&spec.certificate)?)
    } else {
        None
    };
    let key_uri = if spec.private_key.starts_with("pkcs11:") {
        Some(Pkcs11Uri::parse(&spec.private_key)?)
    } else {
        None
    };
    let any_uri = key_uri
        .as_ref()
        .or(cert_uri.as_ref())
        .cloned()
        .unwrap_or_default();
    let module = open_module(&spec.pkcs11_lib, &any_uri)?;
    let mut pins = Pins::resolve(key_uri.as_ref(), cert_uri.as_ref())?;

    // 1. The certificate: from the token, or from a file (hybrid), or none.
    let mut token_cert: Option<TokenCert> = None;
    let mut file_cert: Option<Certificate> = None;
    let mut chain_certs: Vec<Certificate> = Vec::new();
    let mut logged_in_slot: Option<Slot> = None;
    if let Some(uri) = &cert_uri {
        let slots = matching_slots(&module, uri)?;
        if slots.is_empty() {
            return Err(Pkcs11Error::NoSlots {
                what: display_uri(&spec.certificate),
            }
            .into());
        }
        let mut found = public_certs(&module, &slots, uri)?;
        if found.is_empty() {
            if slots.len() > 1 {
                return Err(Pkcs11Error::NoCertsOnTokens {
                    uri: display_uri(&spec.certificate),
                    n: slots.len(),
                }
                .into());
            }
            let slot = &slots[0];
            let session = module.ctx.open_ro_session(slot.slot).map_err(|e| {
                ck(
                    format!("cannot open a session on token {:?}", slot.label),
                    e,
                )
            })?;
            login_user(&session, slot, &mut pins)?;
            logged_in_slot = Some(slot.slot);
            found = certs_in_session(&session, slot, uri.id.as_deref(), uri.object.as_deref())?;
        }
        match found.len() {
            0 => {
                return Err(Pkcs11Error::NoCerts {
                    uri: display_uri(&spec.certificate),
                }
                .into())
            }
            1 => {}
            n => {
                return Err(Pkcs11Error::ManyCerts {
                    n,
                    uri: display_uri(&spec.certificate),
                }
                .into())
            }
        }
        let tc = found.remove(0);
        if spec.intermediates.is_none() {
            // Chain from the certificates of the same token, real issuers only.
            let session = module
                .ctx
                .open_ro_session(tc.slot.slot)
                .map_err(|e| ck("cannot open a session", e))?;
            let pool: Vec<Certificate> = certs_in_session(&session, &tc.slot, None, None)?
                .into_iter()
                .map(|c| c.cert)
                .collect();
            chain_certs = chain::build(&tc.cert, &pool);
        }
        token_cert = Some(tc);
    } else if !spec.certificate.is_empty() {
        let certs = super::file::load_certificates(std::path::Path::new(&spec.certificate))?;
        let mut iter = certs.into_iter();
        file_cert = iter.next();
        chain_certs = iter.collect();
    }
    let certificate = token_cert.as_ref().map(|t| t.cert.clone()).or(file_cert);
    if let Some(path) = &spec.intermediates {
        chain::append_intermediates(certificate.as_ref(), &mut chain_certs, path)?;
    }

    // 2. The key: its URI, its slot, its candidates.
    let (key_search, derived) = match (&key_uri, &token_cert) {
        (Some(k), _) => (k.clone(), false),
        (None, Some(tc)) => {
            let mut k = cert_uri.clone().unwrap_or_default();
            k.id = (!tc.id.is_empty()).then(|| tc.id.clone());
            k.object = (!tc.label.is_empty()).then(|| tc.label.clone());
            k.object_type = None;
            (k, true)
        }
        (None, None) => return Err(Pkcs11Error::NoKeyUri.into()),
    };
    let slots = matching_slots(&module, &key_search)?;
    let slot = match (&slots[..], &token_cert) {
        ([], _) => {
            return Err(Pkcs11Error::NoSlots {
                what: format!("the PKCS#11 key {}", key_search.to_uri_string()),
            }
            .into())
        }
        ([one], _) => one.clone(),
        (many, Some(tc)) => match many.iter().find(|s| s.slot == tc.slot.slot) {
            Some(s) => s.clone(),
            None => return Err(Pkcs11Error::KeySlot { uri: None }.into()),
        },
        (_, None) => {
            return Err(Pkcs11Error::KeySlot {
                uri: Some((key_search.to_uri_string(), slots.len())),
            }
            .into())
        }
    };
    let session = module.ctx.open_ro_session(slot.slot).map_err(|e| {
        ck(
            format!("cannot open a session on token {:?}", slot.label),
            e,
        )
    })?;
    if slot.login_required || logged_in_slot == Some(slot.slot) {
        login_user(&session, &slot, &mut pins)?;
    }
    // Asked one by one: listing all mechanisms makes cryptoki log every type it does not know.
    let mechanisms: Vec<MechanismType> = [
        MechanismType::SHA256_RSA_PKCS,
        MechanismType::SHA384_RSA_PKCS,
        MechanismType::SHA512_RSA_PKCS,
    ]
    .into_iter()
    .filter(|m| module.ctx.get_mechanism_info(slot.slot, *m).is_ok())
    .collect();
    let mut attempts: Vec<(Option<Vec<u8>>, Option<String>)> =
        vec![(key_search.id.clone(), key_search.object.clone())];
    if derived && key_search.id.is_some() && key_search.object.is_some() {
        attempts.push((key_search.id.clone(), None));
    }
    let mut chosen: Option<Pkcs11Signer> = None;
    let mut seen_any = false;
    let mut mismatched = 0usize;
    for (id, label) in attempts {
        let handles = session
            .find_objects(&search_template(
                ObjectClass::PRIVATE_KEY,
                id.as_deref(),
                label.as_deref(),
            ))
            .map_err(|e| {
                ck(
                    format!("cannot search token {:?} for private keys", slot.label),
                    e,
                )
            })?;
        if handles.is_empty() {
            continue;
        }
        seen_any = true;
        if certificate.is_none() && handles.len() > 1 {
            return Err(Pkcs11Error::ManyKeys { n: handles.len() }.into());
        }
        for handle in handles {
            let candidate = match Pkcs11Signer::describe(
                &module,
                &session,
                &slot,
                handle,
                &mechanisms,
                &pins,
                spec.reuse_pin,
            ) {
                Ok(Some(c)) => c,
                // Keys of types we cannot use (e.g. EdDSA) are skipped.
                Ok(None) => continue,
                Err(e) => return Err(e),
            };
            match &certificate {
                None => {
                    chosen = Some(candidate);
                    break;
                }
                Some(cert) => {
                    if Some(candidate.key_type) != cert.key_type() {
                        mismatched += 1;
                        continue;
                    }
                    let test = b"AWS Roles Anywhere Credential Helper PKCS11 Test1";
                    let sig = candidate.sign(test, Digest::Sha256)?;
                    if chain::verify(cert, Digest::Sha256, test, &sig) {
                        let mut c = candidate;
                        if token_cert.is_some() {
                            c.public_key = Some(cert.public_key().to_vec());
                        }
                        chosen = Some(c);
                        break;
                    }
                    mismatched += 1;
                }
            }
        }
        if chosen.is_some() {
            break;
        }
    }
    let Some(signer) = chosen else {
        let what = if !seen_any {
            "no private key object matches".to_string()
        } else if mismatched > 0 {
            format!("{mismatched} private key(s) match the URI but none belongs to the certificate")
        } else {
            "the matching private keys are of unsupported types".to_string()
        };
        return Err(Pkcs11Error::NoMatchingKey {
            token: slot.label.clone(),
            why: what,
        }
        .into());
    };
    let _ = purpose;
    Ok(Identity {
        certificate,
        chain: chain_certs,
        signer: Box::new(signer),
    })
}

/// A URI for messages: without any PIN.
fn display_uri(text: &str) -> String {
    Pkcs11Uri::parse(text)
        .map(|u| u.to_uri_string())
        .unwrap_or_else(|_| "the URI".into())
}

/// A key on a token.
pub struct Pkcs11Signer {
    module: Module,
    slot: Slot,
    token: String,
    login_required: bool,
    id: Vec<u8>,
    label: String,
    key_type: KeyType,
    token_hashes_rsa: bool,
    always_authenticate: bool,
    user_pin: Option<Zeroizing<String>>,
    context_pin: Mutex<Option<Zeroizing<String>>>,
    reuse_pin: bool,
    public_key: Option<Vec<u8>>,
}

impl Pkcs11Signer {
    /// Reads what we need about a private key object; `None` for unsupported key types.
    fn describe(
        module: &Module,
        session: &Session,
        slot: &TokenSlot,
        handle: ObjectHandle,
        mechanisms: &[MechanismType],
        pins: &Pins,
        reuse_pin: bool,
    ) -> Result<Option<Pkcs11Signer>> {
        let attrs = session
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::AlwaysAuthenticate,
                ],
            )
            .map_err(|e| ck("cannot read the private key's attributes", e))?;
        let mut ck_type = None;
        let mut params = None;
        let mut always = false;
        for a in attrs {
            match a {
                Attribute::KeyType(t) => ck_type = Some(t),
                Attribute::EcParams(p) => params = Some(p),
                Attribute::AlwaysAuthenticate(b) => always = b,
                _ => {}
            }
        }
        let key_type = match ck_type {
            Some(t) if t == CkKeyType::RSA => KeyType::Rsa,
            Some(t) if t == CkKeyType::EC => {
                let curve = params.as_deref().and_then(curve_of_params);
                match curve {
                    Some(c) => KeyType::Ec(c),
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        let (id, label) = id_and_label(session, handle);
        let token_hashes_rsa = [
            MechanismType::SHA256_RSA_PKCS,
            MechanismType::SHA384_RSA_PKCS,
            MechanismType::SHA512_RSA_PKCS,
        ]
        .iter()
        .all(|m| mechanisms.contains(m));
        Ok(Some(Pkcs11Signer {
            module: module.clone(),
            slot: slot.slot,
            token: slot.label.clone(),
            login_required: slot.login_required,
            id,
            label,
            key_type,
            token_hashes_rsa,
            always_authenticate: always,
            user_pin: pins.user.clone(),
            context_pin: Mutex::new(None),
            reuse_pin,
            public_key: None,
        }))
    }

    fn key_uri(&self) -> String {
        Pkcs11Uri {
            token: Some(self.token.clone()),
            id: (!self.id.is_empty()).then(|| self.id.clone()),
            object: (!self.label.is_empty()).then(|| self.label.clone()),
            object_type: Some("private".into()),
            ..Pkcs11Uri::default()
        }
        .to_uri_string()
    }

    /// Logs in as CKU_CONTEXT_SPECIFIC after C_SignInit (CKA_ALWAYS_AUTHENTICATE keys).
    fn context_login(&self, session: &Session) -> Result<()> {
        let mut remembered = self
            .context_pin
            .lock()
            .map_err(|_| Pkcs11Error::LockPoisoned)?;
        let pin = match (remembered.as_ref(), self.reuse_pin, &self.user_pin) {
            (Some(p), _, _) => p.clone(),
            (None, true, Some(user)) => user.clone(),
            _ => {
                let prompt = format!(
                    "Please enter your context-specific PIN for private key object ({}):",
                    self.key_uri()
                );
                TerminalPrompter
                    .ask(&prompt)
                    .ok_or_else(|| Pkcs11Error::NoContextPin {
                        key: self.key_uri(),
                    })?
            }
        };
        match do_login(session, UserType::ContextSpecific, &pin) {
            Ok(()) => {
                *remembered = Some(pin);
                Ok(())
            }
            Err(rv) => Err(Pkcs11Error::ContextLogin {
                key: self.key_uri(),
                rv,
            }
            .into()),
        }
    }

    fn raw_sign(&self, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let session = self.module.ctx.open_ro_session(self.slot).map_err(|e| {
            ck(
                format!("cannot open a session on token {:?}", self.token),
                e,
            )
        })?;
        if self.login_required {
            let Some(pin) = &self.user_pin else {
                return Err(Pkcs11Error::NoPin {
                    token: self.token.clone(),
                    at_login: false,
                }
                .into());
            };
            do_login(&session, UserType::User, pin).map_err(|rv| Pkcs11Error::Login {
                token: self.token.clone(),
                rv,
            })?;
        }
        let template = search_template(
            ObjectClass::PRIVATE_KEY,
            (!self.id.is_empty()).then_some(self.id.as_slice()),
            (!self.label.is_empty()).then_some(self.label.as_str()),
        );
        let handles = session
            .find_objects(&template)
            .map_err(|e| ck("cannot search for the private key", e))?;
        let [key] = handles[..] else {
            return Err(Pkcs11Error::KeyGone {
                key: self.key_uri(),
            }
            .into());
        };
        if self.always_authenticate {
            session
                .sign_init(mechanism, key)
                .map_err(|e| ck("C_SignInit failed", e))?;
            self.context_login(&session)?;
            return ffi::sign_after_init(&self.module.path, session.handle(), data)
                .map_err(|why| Pkcs11Error::Sign { why }.into());
        }
        session
            .sign(mechanism, key, data)
            .map_err(|e| ck(format!("signing with {} failed", self.key_uri()), e).into())
    }
}

fn curve_of_params(params: &[u8]) -> Option<Curve> {
    use der::Decode;
    let oid = der::asn1::ObjectIdentifier::from_der(params).ok()?;
    match oid {
        super::certificate::oid::SECP256R1 => Some(Curve::P256),
        super::certificate::oid::SECP384R1 => Some(Curve::P384),
        super::certificate::oid::SECP521R1 => Some(Curve::P521),
        _ => None,
    }
}

/// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
fn digest_info_prefix(digest: Digest) -> &'static [u8] {
    match digest {
        Digest::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        Digest::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        Digest::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// Converts a raw `r‖s` ECDSA signature to DER.
pub fn ecdsa_raw_to_der(curve: Curve, raw: &[u8]) -> std::result::Result<Vec<u8>, ecdsa::Error> {
    Ok(match curve {
        Curve::P256 => ecdsa::Signature::<p256::NistP256>::from_slice(raw)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Curve::P384 => ecdsa::Signature::<p384::NistP384>::from_slice(raw)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Curve::P521 => ecdsa::Signature::<p521::NistP521>::from_slice(raw)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}

/// The curve's field size in bytes (ECDSA uses that many leftmost bytes of the digest).
pub fn curve_bytes(curve: Curve) -> usize {
    match curve {
        Curve::P256 => 32,
        Curve::P384 => 48,
        Curve::P521 => 66,
    }
}

impl Signer for Pkcs11Signer {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Known only when the certificate came from the token (as the official tool).
    fn public_key(&self) -> Option<Vec<u8>> {
        self.public_key.clone()
    }

    fn sign(&self, message: &[u8], digest: Digest) -> Result<Vec<u8>> {
        match self.key_type {
            KeyType::Rsa if self.token_hashes_rsa => {
                let mechanism = match digest {
                    Digest::Sha256 => Mechanism::Sha256RsaPkcs,
                    Digest::Sha384 => Mechanism::Sha384RsaPkcs,
                    Digest::Sha512 => Mechanism::Sha512RsaPkcs,
                };
                self.raw_sign(&mechanism, message)
            }
            KeyType::Rsa => {
                let mut data = digest_info_prefix(digest).to_vec();
                data.extend_from_slice(&digest.hash(message));
                self.raw_sign(&Mechanism::RsaPkcs, &data)
            }
            KeyType::Ec(curve) => {
                let mut hash = digest.hash(message);
                hash.truncate(curve_bytes(curve));
                let raw = self.raw_sign(&Mechanism::Ecdsa, &hash)?;
                ecdsa_raw_to_der(curve, &raw).map_err(|e| Pkcs11Error::BadSignature(e).into())
            }
            KeyType::MlDsa(_) => Err(Pkcs11Error::MlDsa.into()),
        }
    }
}
