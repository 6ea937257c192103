//! The one PKCS#11 call `cryptoki` does not offer: `C_Sign` after `C_SignInit` and a
//! CKU_CONTEXT_SPECIFIC `C_Login` (CKA_ALWAYS_AUTHENTICATE keys need the login between the two,
//! and `cryptoki`'s `Session::sign` always does both). This is the only `unsafe` code of the
//! crate; it calls the module's own function list, obtained from the same loaded library (the
//! dynamic loader returns the already-loaded instance, so session handles are shared).

use cryptoki_sys::{CKR_OK, CK_FUNCTION_LIST_PTR, CK_RV, CK_SESSION_HANDLE, CK_ULONG};

/// Completes a single-part signature on `session`, whose C_SignInit already succeeded.
pub fn sign_after_init(
    module_path: &str,
    session: CK_SESSION_HANDLE,
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let data_len = CK_ULONG::try_from(data.len()).map_err(|_| "message too long".to_string())?;
    // SAFETY: loading the module the context already loaded runs no new initialisers; the
    // function list pointer is checked for null before use, C_Sign is called exactly as PKCS#11
    // §5.11 specifies (length query, then the buffer of that length), `data` outlives both calls
    // and the module never writes through the input pointer.
    unsafe {
        let lib = cryptoki_sys::Pkcs11::new(module_path)
            .map_err(|e| format!("cannot load {module_path}: {e}"))?;
        if lib.C_GetFunctionList.is_err() {
            return Err(format!("{module_path} has no C_GetFunctionList"));
        }
        let mut list: CK_FUNCTION_LIST_PTR = std::ptr::null_mut();
        check(lib.C_GetFunctionList(&mut list))?;
        if list.is_null() {
            return Err("C_GetFunctionList returned no list".to_string());
        }
        let Some(c_sign) = (*list).C_Sign else {
            return Err("the module has no C_Sign".to_string());
        };
        let mut len: CK_ULONG = 0;
        check(c_sign(
            session,
            data.as_ptr() as *mut u8,
            data_len,
            std::ptr::null_mut(),
            &mut len,
        ))?;
        let mut signature = vec![0u8; usize::try_from(len).map_err(|_| "bad length")?];
        check(c_sign(
            session,
            data.as_ptr() as *mut u8,
            data_len,
            signature.as_mut_ptr(),
            &mut len,
        ))?;
        signature.truncate(usize::try_from(len).map_err(|_| "bad length")?);
        Ok(signature)
    }
}

fn check(rv: CK_RV) -> Result<(), String> {
    if rv == CKR_OK {
        Ok(())
    } else {
        Err(format!("CK_RV 0x{rv:08X}"))
    }
}
