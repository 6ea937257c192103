//! The TPM commands the signer sends, over one [`Connection`]: `TPM2_ReadPublic`,
//! `TPM2_CreatePrimary`, `TPM2_Load`, `TPM2_Sign`, `TPM2_FlushContext` (and `TPM2_Startup` for a
//! simulator nobody started). Authorisation is the password session only. Every transient object
//! this client creates is flushed when it is dropped, on errors too: without a resource manager
//! (`/dev/tpm0`, swtpm) they would otherwise stay in the TPM's few object slots.

use zeroize::Zeroizing;

use super::marshal::{self, cc, rc, Failure, Public, Response, Signature, Writer};
use super::transport::{Connection, Target, TransportError};

/// How often a command is sent again when the TPM answers "retry" (`TPM_RC_RETRY`,
/// `TPM_RC_YIELDED`, `TPM_RC_TESTING`).
const RETRIES: usize = 5;

pub struct Client {
    conn: Connection,
    simulator: bool,
    started: bool,
    transient: Vec<u32>,
}

impl Client {
    pub fn open(target: &Target) -> Result<Client, TransportError> {
        Ok(Client {
            conn: Connection::open(target)?,
            simulator: target.is_simulator(),
            started: false,
            transient: Vec::new(),
        })
    }

    /// Sends a command and checks the response. A simulator that answers `TPM_RC_INITIALIZE`
    /// (started without `startup-clear`) gets `TPM2_Startup(CLEAR)` first, as `tpm2_startup -c`
    /// would; a hardware TPM is started by the firmware.
    fn call(&mut self, command: &[u8]) -> std::result::Result<Vec<u8>, Failure> {
        let mut attempts = 0;
        loop {
            let resp = self.conn.transmit(command)?;
            match marshal::check_header(&resp) {
                Err(Failure::Tpm(code))
                    if matches!(code.code(), rc::RETRY | rc::YIELDED | rc::TESTING)
                        && attempts < RETRIES =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20 << attempts));
                }
                Err(Failure::Tpm(code))
                    if code.code() == rc::INITIALIZE && self.simulator && !self.started =>
                {
                    self.started = true;
                    let mut p = Writer::default();
                    p.u16(0x0000); // TPM_SU_CLEAR
                    let startup = marshal::command(cc::STARTUP, &[], None, &p.0)?;
                    let r = self.conn.transmit(&startup)?;
                    marshal::check_header(&r)?;
                }
                Err(e) => return Err(e),
                Ok(_) => return Ok(resp),
            }
        }
    }

    /// `TPM2_ReadPublic`: the object's public area.
    pub fn read_public(&mut self, handle: u32) -> std::result::Result<Public, Failure> {
        let cmd = marshal::command(cc::READ_PUBLIC, &[handle], None, &[])?;
        let resp = self.call(&cmd)?;
        let Response { mut params, .. } = marshal::response(&resp, 0)?;
        let public = params.tpm2b("public area")?;
        Ok(Public::decode(public)?)
    }

    /// `TPM2_CreatePrimary` under `hierarchy` (empty hierarchy password) from `template`; the
    /// object is flushed on drop.
    pub fn create_primary(
        &mut self,
        hierarchy: u32,
        template: &Public,
    ) -> std::result::Result<u32, Failure> {
        let mut p = Writer::default();
        // TPM2B_SENSITIVE_CREATE: empty userAuth, empty data.
        p.u16(4).u16(0).u16(0);
        p.tpm2b(&template.encode()?)?;
        p.tpm2b(&[])?; // outsideInfo
        p.u32(0); // creationPCR: no selection
        let cmd = marshal::command(cc::CREATE_PRIMARY, &[hierarchy], Some(&[]), &p.0)?;
        let resp = self.call(&cmd)?;
        // response(.., 1) returns exactly one handle or an error.
        let handle = marshal::response(&resp, 1)?.handles[0];
        self.transient.push(handle);
        Ok(handle)
    }

    /// `TPM2_Load` of a key's public and private blobs under `parent` (empty parent password);
    /// the object is flushed on drop.
    pub fn load(
        &mut self,
        parent: u32,
        private: &[u8],
        public: &[u8],
    ) -> std::result::Result<u32, Failure> {
        let mut p = Writer::default();
        p.tpm2b(private)?.tpm2b(public)?;
        let cmd = marshal::command(cc::LOAD, &[parent], Some(&[]), &p.0)?;
        let resp = self.call(&cmd)?;
        // response(.., 1) returns exactly one handle or an error.
        let handle = marshal::response(&resp, 1)?.handles[0];
        self.transient.push(handle);
        Ok(handle)
    }

    /// `TPM2_Sign` of a digest with the key's password, scheme `scheme` (RSASSA or ECDSA) and
    /// hash `hash`, with the null hashcheck ticket (the key is unrestricted).
    pub fn sign(
        &mut self,
        key: u32,
        password: &[u8],
        digest: &[u8],
        scheme: u16,
        hash: u16,
    ) -> std::result::Result<Signature, Failure> {
        let mut p = Writer::default();
        p.tpm2b(digest)?;
        p.u16(scheme).u16(hash);
        p.u16(marshal::ST_HASHCHECK)
            .u32(marshal::RH_NULL)
            .tpm2b(&[])?;
        let cmd: Zeroizing<Vec<u8>> = marshal::command(cc::SIGN, &[key], Some(password), &p.0)?;
        let resp = self.call(&cmd)?;
        let Response { mut params, .. } = marshal::response(&resp, 0)?;
        let sig = Signature::decode(&mut params)?;
        params.finish("signature")?;
        Ok(sig)
    }

    fn flush(&mut self, handle: u32) {
        let mut p = Writer::default();
        p.u32(handle);
        if let Ok(cmd) = marshal::command(cc::FLUSH_CONTEXT, &[], None, &p.0) {
            // Best effort: the connection may be the reason we are here.
            let _ = self.conn.transmit(&cmd);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        while let Some(h) = self.transient.pop() {
            self.flush(h);
        }
    }
}
