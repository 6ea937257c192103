//! Failures the commands name themselves: which flag's value, or which step, the library's
//! error is about. The library's error is kept whole as the cause (its typed source chain
//! included) and rendered after the flag or step, with its hint.

use std::fmt;

use aws_signing_helper::Error;

/// What a command failed at, and the error it failed with.
#[derive(Debug)]
pub enum CommandError {
    /// The value of `flag` (with the file it names, when it names one) was refused.
    Flag { flag: String, cause: Error },
    /// `--role-arn` is not a role ARN.
    RoleArn(Error),
    /// The key could not sign the digest (`sign-string`).
    SignDigest(Error),
}

impl CommandError {
    /// The error about the value of `flag`.
    pub fn flag(flag: impl Into<String>) -> impl FnOnce(Error) -> Error {
        let flag = flag.into();
        move |cause| CommandError::Flag { flag, cause }.into()
    }

    fn cause(&self) -> &Error {
        match self {
            CommandError::Flag { cause, .. }
            | CommandError::RoleArn(cause)
            | CommandError::SignDigest(cause) => cause,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = self.cause().message();
        match self {
            CommandError::Flag { flag, .. } => write!(f, "{flag}: {cause}"),
            CommandError::RoleArn(_) => write!(f, "invalid role ARN: {cause}"),
            CommandError::SignDigest(_) => write!(f, "unable to sign the digest: {cause}"),
        }
    }
}

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.cause())
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Error {
        let out = Error::new(e.to_string());
        let out = match e.cause().hint_text() {
            Some(h) => out.hint(h),
            None => out,
        };
        out.with_source(e)
    }
}
