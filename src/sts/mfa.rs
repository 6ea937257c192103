//! Where MFA codes come from: `--token-code`, a command (`--mfa-process`, the profile's
//! `mfa_process`), or the terminal. Never from the environment.
//!
//! A command is split like a POSIX shell line (no shell runs it); its stdin and stderr are the
//! user's (a hardware key may ask for a touch), its stdout, trimmed, is the code: six digits.
//! It is killed when it runs longer than its time-out. Its output is never repeated in an
//! error: it may hold the code.
//!
//! At the terminal a malformed code is asked for again, and so is a code STS rejects
//! ([`is_rejected`]): up to [`ATTEMPTS`] typed codes in all. A code from `--token-code` or a
//! command is not retried.

use std::io::{IsTerminal, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::mfa_error::{MfaError, ProcessProblem};
use crate::error::{Error, Result};
use crate::sts::{self, ServiceError};

/// How many times a code is asked for at the terminal, in all.
pub const ATTEMPTS: u32 = 3;

/// The default time-out of an MFA command.
pub const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The most an MFA command may print on stdout (a code is six digits).
pub(crate) const MAX_OUTPUT: u64 = 4096;

/// Asks for the code on the terminal, again while what is typed is not six digits. `typed`
/// counts the codes typed so far in this exchange (refused ones included): at most
/// [`ATTEMPTS`] in all.
pub fn prompt(serial: &str, typed: &mut u32) -> Result<Zeroizing<String>> {
    if !(std::io::stdin().is_terminal() || std::io::stderr().is_terminal()) {
        return Err(MfaError::NoTerminal {
            serial: serial.into(),
        }
        .into());
    }
    loop {
        let code = rpassword::prompt_password(format!("MFA code for {serial}: "))
            .map(Zeroizing::new)
            .map_err(|source| MfaError::ReadTerminal { source })?;
        *typed += 1;
        let trimmed = Zeroizing::new(code.trim().to_string());
        match sts::check_token_code(&trimmed) {
            Ok(()) => return Ok(trimmed),
            Err(_) if *typed < ATTEMPTS => {
                log::warn!("that is not an MFA code (6 digits); try again");
            }
            Err(_) => {
                return Err(MfaError::Attempts {
                    serial: serial.into(),
                }
                .into())
            }
        }
    }
}

/// Runs `command` for the code of `serial`, killing it after `timeout`.
pub fn from_process(command: &str, serial: &str, timeout: Duration) -> Result<Zeroizing<String>> {
    let failed = |problem: ProcessProblem| MfaError::Process {
        command: command.into(),
        serial: serial.into(),
        problem,
    };
    let argv = shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| failed(ProcessProblem::CommandLine))?;
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| {
            failed(ProcessProblem::CannotRun {
                program: argv[0].clone(),
                source,
            })
        })?;
    // Read on a thread, so that a command that prints and hangs still times out. The thread
    // ends with the pipe; a grandchild that keeps it open only keeps the thread waiting.
    let stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Room for all that is read, so that no reallocation leaves a copy of the code.
        let mut buf = Zeroizing::new(Vec::with_capacity(MAX_OUTPUT as usize + 64));
        if let Some(out) = stdout {
            // A read error leaves what was read; the checks below refuse it.
            let _ = out.take(MAX_OUTPUT + 1).read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(ProcessProblem::Timeout {
                    secs: timeout.as_secs(),
                })
                .into());
            }
            Err(source) => return Err(failed(ProcessProblem::Wait { source }).into()),
        }
    };
    // The reader closes the pipe after MAX_OUTPUT + 1 bytes, which ends a command that
    // goes on printing: its size says more than its exit status.
    let out = rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
    if out.len() as u64 > MAX_OUTPUT {
        return Err(failed(ProcessProblem::TooMuchOutput).into());
    }
    if !status.success() {
        return Err(failed(ProcessProblem::Failed { status }).into());
    }
    code_from_output(&out, command, serial)
}

/// The MFA code `command` (run for `serial`) printed: its output, trimmed, if that is six
/// digits. The error names the command and never repeats the output: it may be (or hold) the
/// code.
pub fn code_from_output(out: &[u8], command: &str, serial: &str) -> Result<Zeroizing<String>> {
    let text = String::from_utf8_lossy(out);
    let code = Zeroizing::new(text.trim().to_string());
    drop(text);
    if sts::check_token_code(&code).is_err() {
        // The output is not repeated: it may be (or hold) the code.
        return Err(MfaError::Process {
            command: command.into(),
            serial: serial.into(),
            problem: ProcessProblem::NotACode,
        }
        .into());
    }
    Ok(code)
}

/// Whether `e` is STS refusing the MFA code itself (AccessDenied, "MultiFactorAuthentication
/// failed with invalid MFA one time pass code."), as opposed to a missing MFA or a policy.
pub fn is_rejected(e: &Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(se) = c.downcast_ref::<ServiceError>() {
            let m = se.message.to_ascii_lowercase();
            return se.code == "AccessDenied"
                && m.contains("multifactorauthentication failed")
                && m.contains("invalid mfa");
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::HttpResponse;

    fn denied(message: &str) -> Error {
        let resp = HttpResponse {
            status: 403,
            headers: vec![],
            body: format!("<ErrorResponse><Error><Code>AccessDenied</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>").into_bytes(),
        };
        ServiceError::from_response(crate::sts::client::STS, "AssumeRole", &resp).into_error(None)
    }

    #[test]
    fn tells_a_rejected_code_from_other_denials() {
        assert!(is_rejected(&denied(
            "MultiFactorAuthentication failed with invalid MFA one time pass code. "
        )));
        assert!(!is_rejected(&denied(
            "MultiFactorAuthentication required to assume the role"
        )));
        assert!(!is_rejected(&denied("User is not authorized")));
        assert!(!is_rejected(&Error::new(
            "MultiFactorAuthentication failed with invalid MFA one time pass code."
        )));
    }

    #[test]
    fn a_process_prints_the_code_and_nothing_else() {
        let t = Duration::from_secs(10);
        assert_eq!(
            from_process("printf ' 123456\\n'", "dev", t)
                .unwrap()
                .as_str(),
            "123456"
        );
        // Prints 12345x, which its command line does not hold.
        let e = from_process("sh -c 'echo 1234$((2+3))x'", "dev", t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not print a 6-digit MFA code"), "{e}");
        assert!(!e.contains("12345x"), "{e}");
        let e = from_process("sh -c 'exit 3'", "dev", t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("failed") && e.contains("sh -c"), "{e}");
        let e = from_process("/nonexistent/ykman", "dev", t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot run"), "{e}");
        let e = from_process("'unclosed", "dev", t).unwrap_err().to_string();
        assert!(e.contains("not a valid command line"), "{e}");
        let e = from_process("sleep 5", "dev", Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not finish within"), "{e}");
        let e = from_process("yes 123456", "dev", t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed more than"), "{e}");
    }
}
