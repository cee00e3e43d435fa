//! `scanrig export`: write a scan's camera poses, then say where they went.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Failure;
use crate::export::{self, ExportArgs};
use crate::settings::Settings;

/// Runs [`export::run`] and prints how many files it wrote, and where.
pub fn run(settings: &Settings, args: &ExportArgs) -> Result<ExitCode, Failure> {
    let written = export::run(settings, args)?;
    println!(
        "wrote {} files, in {}",
        written.len(),
        common_folder(&written)
    );
    Ok(ExitCode::SUCCESS)
}

/// The folder the written files share (their first one's, for one file).
fn common_folder(paths: &[PathBuf]) -> String {
    let Some(first) = paths.first() else {
        return String::new();
    };
    let mut common = first.parent().unwrap_or(first).to_path_buf();
    while !paths.iter().all(|p| p.starts_with(&common)) && common.pop() {}
    common.display().to_string()
}
