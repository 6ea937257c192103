//! A small stderr logger in the official tool's format: `YYYY/MM/DD HH:MM:SS message`.
//! Warnings always show; `--debug` shows debug lines too.

use std::io::Write;

struct StderrLogger;

/// The official log-line time prefix, in local time.
pub fn timestamp() -> String {
    jiff::Zoned::now().strftime("%Y/%m/%d %H:%M:%S").to_string()
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        // Other crates' messages (e.g. a TPM library's own errors) show only with --debug: our
        // errors already say what failed, in one line.
        metadata.level() <= log::max_level()
            && (log::max_level() >= log::LevelFilter::Debug
                || metadata.target().starts_with("aws_signing_helper"))
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let mut err = std::io::stderr().lock();
            // Nothing sensible to do if stderr is gone.
            let _ = writeln!(err, "{} {}", timestamp(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the logger; `debug` enables debug lines.
pub fn init(debug: bool) {
    // set_logger fails only if a logger is already installed, which is fine.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(if debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Warn
    });
}
