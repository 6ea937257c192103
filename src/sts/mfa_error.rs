//! Why no MFA code was had (`sts::mfa`): from the terminal or from an MFA command. Neither a
//! code nor a command's output is ever kept here: they may be (or hold) the code.

use std::fmt;

use super::mfa::{ATTEMPTS, MAX_OUTPUT};

/// No MFA code for `serial`.
#[derive(Debug)]
pub enum MfaError {
    /// A code is needed and there is no terminal.
    NoTerminal { serial: String },
    /// Reading from the terminal failed.
    ReadTerminal { source: std::io::Error },
    /// [`ATTEMPTS`] malformed codes were typed.
    Attempts { serial: String },
    /// The MFA command `command` (run for `serial`) gave no code.
    Process {
        command: String,
        serial: String,
        problem: ProcessProblem,
    },
}

/// What went wrong with an MFA command.
#[derive(Debug)]
pub enum ProcessProblem {
    /// It does not split into a command line.
    CommandLine,
    /// `program` could not be started.
    CannotRun {
        program: String,
        source: std::io::Error,
    },
    /// It ran longer than `secs` seconds and was stopped.
    Timeout { secs: u64 },
    /// Waiting for it failed.
    Wait { source: std::io::Error },
    /// It printed more than [`MAX_OUTPUT`] bytes.
    TooMuchOutput,
    /// It exited unsuccessfully.
    Failed { status: std::process::ExitStatus },
    /// What it printed is not six digits.
    NotACode,
}

impl MfaError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            MfaError::NoTerminal { .. } => {
                "pass --token-code with the 6-digit code your device shows, or --mfa-process CMD"
            }
            MfaError::ReadTerminal { .. } => return None,
            MfaError::Attempts { .. } => "type the code your MFA device shows now",
            MfaError::Process { problem, .. } => match problem {
                ProcessProblem::CommandLine => {
                    "quote it like a shell line: --mfa-process 'ykman oath accounts code -s NAME'"
                }
                ProcessProblem::CannotRun { .. } => {
                    "use an absolute path, or put the program on PATH"
                }
                ProcessProblem::Timeout { .. } => {
                    "check that the device is present (and touch it if it asks), or pass a longer --mfa-process-timeout"
                }
                ProcessProblem::Wait { .. } => return None,
                ProcessProblem::TooMuchOutput => "the command must print only the 6-digit code",
                ProcessProblem::Failed { .. } => "run the command by hand to see why",
                ProcessProblem::NotACode => {
                    "the command must print only the code (e.g. ykman oath accounts code -s NAME)"
                }
            },
        })
    }
}

impl fmt::Display for MfaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MfaError::NoTerminal { serial } => write!(
                f,
                "--token-code is needed for MFA device {serial}, and there is no terminal to ask on"
            ),
            MfaError::ReadTerminal { source } => {
                write!(f, "cannot read the MFA code from the terminal: {source}")
            }
            MfaError::Attempts { serial } => write!(
                f,
                "no valid MFA code for {serial} after {ATTEMPTS} attempts: an MFA code is 6 digits"
            ),
            MfaError::Process {
                command,
                serial,
                problem,
            } => {
                write!(f, "MFA process {command:?} (for {serial})")?;
                match problem {
                    ProcessProblem::CommandLine => f.write_str(" is not a valid command line"),
                    ProcessProblem::CannotRun { program, source } => {
                        write!(f, ": cannot run {program:?}: {source}")
                    }
                    ProcessProblem::Timeout { secs } => {
                        write!(f, " did not finish within {secs} seconds and was stopped")
                    }
                    ProcessProblem::Wait { source } => write!(f, ": cannot wait for it: {source}"),
                    ProcessProblem::TooMuchOutput => {
                        write!(f, " printed more than {MAX_OUTPUT} bytes, not an MFA code")
                    }
                    ProcessProblem::Failed { status } => write!(f, " failed ({status})"),
                    ProcessProblem::NotACode => f.write_str(" did not print a 6-digit MFA code"),
                }
            }
        }
    }
}

impl std::error::Error for MfaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MfaError::ReadTerminal { source }
            | MfaError::Process {
                problem: ProcessProblem::CannotRun { source, .. } | ProcessProblem::Wait { source },
                ..
            } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(MfaError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e = crate::sts::mfa::from_process(
            "'unclosed",
            "arn:aws:iam::123456789012:mfa/a",
            std::time::Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "MFA process \"'unclosed\" (for arn:aws:iam::123456789012:mfa/a) is not a valid command line (hint: quote it like a shell line: --mfa-process 'ykman oath accounts code -s NAME')"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<MfaError>()),
            Some(MfaError::Process {
                problem: ProcessProblem::CommandLine,
                ..
            })
        ));
        let e: Error = MfaError::Attempts {
            serial: "GAHT1".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "no valid MFA code for GAHT1 after 3 attempts: an MFA code is 6 digits (hint: type the code your MFA device shows now)"
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<MfaError>()));
    }
}
