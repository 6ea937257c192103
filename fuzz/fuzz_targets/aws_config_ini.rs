//! `~/.aws/config` (and the credentials file when looking a profile up), parsed leniently.
#![no_main]

use aws_signing_helper::files::aws_config::Ini;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ini = Ini::parse(text);
    for name in ["default", "profile x", "services local"] {
        if let Some(section) = ini.section(name) {
            let _ = section.get("rolesanywhere.endpoint_url");
        }
    }
});
