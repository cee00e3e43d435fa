//! `scanrig import SCAN FOLDER`: a wired camera's photos brought in from
//! its card ([`crate::import`]), the match shown for confirmation, then
//! sent to the scan's destination as `scanrig uploads retry` sends them.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use scanrig_actors::history::History;
use scanrig_actors::journal::{self, ScanRecord, JOURNAL_FILE};
use scanrig_actors::model::{CameraName, ScanId};
use slog::Logger;

use super::Failure;
use crate::import::{imported_shas, read_card, Card, Import};
use crate::scans::{SpoolLock, SpoolState};
use crate::settings::Settings;
use crate::{rig, runner};

/// Which scan, and where its photos are.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The scan a camera fired by a wire took (its id, as `scanrig scans`
    /// lists it).
    pub scan: String,
    /// The camera's card, or a copy of it (e.g. /media/card).
    pub folder: PathBuf,
    /// The column's camera whose card it is (its name in [[cameras]]);
    /// needed only when the scan waits for the cards of several.
    #[arg(long, value_name = "NAME")]
    pub camera: Option<String>,
    /// Go on without asking to confirm the match.
    #[arg(long)]
    pub yes: bool,
}

/// Matches the card's photos to the scan's shots, asks, imports them and
/// sends them; exit 1 if photos are left waiting to be sent.
pub fn run(settings: &Settings, args: ImportArgs, log: Logger) -> Result<ExitCode, Failure> {
    let spool = settings.spool_dir();
    let scan = ScanId::from_existing(&args.scan);
    {
        let _lock = SpoolLock::take(&spool)?;
        let dir = spool.join(scan.as_str());
        let Some((record, camera)) = awaiting(&dir, &scan, &spool, args.camera.as_deref())? else {
            return Ok(ExitCode::SUCCESS);
        };
        if !args.folder.is_dir() {
            return Err(Failure::Usage(format!(
                "{} is not a folder; give the folder of the camera's card (e.g. /media/card)",
                args.folder.display()
            )));
        }
        let photos = read_card(&args.folder, &imported_shas(&record, &camera))?;
        let card = Card {
            camera,
            column: settings.column().map(|(name, _)| name).collect(),
        };
        let whose = card
            .camera
            .as_ref()
            .map_or_else(String::new, |c| format!(" from camera {c}"));
        let import = Import::new(&record, &dir, &args.folder, photos, card);
        println!(
            "scan {scan}: {} shots await their photos{whose}; {} photos on the card in {}",
            import.rows.len(),
            import.photos.len(),
            args.folder.display()
        );
        print!("{}", import.table());
        let question = format!("import {} photos into scan {scan}?", import.matched());
        if !args.yes && !confirmed(&question)? {
            println!("nothing imported");
            return Ok(ExitCode::SUCCESS);
        }
        let brought = import.carry_out()?;
        let missing = import.missing();
        println!(
            "imported {brought} photos into scan {scan}; {} shots have no photo{}",
            missing.len(),
            list(&missing)
        );
    }
    let sent = runner::upload_pending(rig::build(settings, None, &log)?, log)?;
    let left = SpoolState::read(&spool)?
        .scans
        .iter()
        .find(|s| *s.id() == scan)
        .map_or(0, |s| s.pending_uploads().len());
    println!("uploaded {sent} photos; {left} still waiting");
    Ok(if left == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The scan in `dir` and the camera (`camera`, or the one it waits for)
/// whose card is read, if its shots await their photos; `None` (said why)
/// when there is nothing left to import; an error when there never was.
fn awaiting(
    dir: &std::path::Path,
    scan: &ScanId,
    spool: &std::path::Path,
    camera: Option<&str>,
) -> Result<Option<(ScanRecord, Option<CameraName>)>, Failure> {
    let plain = !scan.as_str().is_empty()
        && !scan.as_str().contains('/')
        && scan.as_str() != "."
        && scan.as_str() != "..";
    if !plain || !dir.join(JOURNAL_FILE).is_file() {
        let retired = History::ids(spool)
            .with_context(|| format!("cannot read the scans index in {}", spool.display()))?;
        if retired.contains(scan) {
            println!("scan {scan} is delivered and has left the spool: nothing is left to import");
            return Ok(None);
        }
        return Err(Failure::Usage(format!(
            "there is no scan {scan} in {}; `scanrig scans` lists the scans",
            spool.display()
        )));
    }
    let record = journal::replay(dir).with_context(|| format!("cannot read scan {scan}"))?;
    if record.triggered.is_empty() {
        return Err(Failure::Usage(format!(
            "scan {scan} was not taken by a camera fired by a wire (camera.backend = \"trigger\"): its photos came in as it ran, and there is nothing to import"
        )));
    }
    if record.finished.is_none() {
        return Err(Failure::Usage(format!(
            "scan {scan} has not ended; import its photos once it has (let it finish, or stop it)"
        )));
    }
    let camera = whose_card(&record, scan, camera)?;
    if record.imported.contains(&camera) {
        let missing: Vec<_> = record
            .not_imported
            .keys()
            .filter(|(_, c)| *c == camera)
            .map(|(shot, _)| *shot)
            .collect();
        let with = record
            .captured
            .values()
            .filter(|(_, files)| files.iter().any(|f| f.camera == camera))
            .count();
        println!(
            "scan {scan}'s photos were imported already ({with} shots with a photo, {} without{}): nothing is imported again",
            missing.len(),
            list(&missing)
        );
        return Ok(None);
    }
    Ok(Some((record, camera)))
}

/// The camera fired by a wire whose card is read: `named`, which must be
/// one the scan fired; or, unnamed, the only one it fired.
fn whose_card(
    record: &ScanRecord,
    scan: &ScanId,
    named: Option<&str>,
) -> Result<Option<CameraName>, Failure> {
    let fired: BTreeSet<&Option<CameraName>> = record.triggered.keys().map(|(_, c)| c).collect();
    let names = || {
        let names: Vec<&str> = fired
            .iter()
            .filter_map(|c| c.as_ref())
            .map(CameraName::as_str)
            .collect();
        names.join(", ")
    };
    match (named, fired.len()) {
        (None, 1) => Ok(fired.into_iter().next().cloned().flatten()),
        (None, _) => Err(Failure::Usage(format!(
            "scan {scan} has photos on the cards of cameras {}: say whose card this is with --camera NAME",
            names()
        ))),
        (Some(name), _) => fired
            .iter()
            .find_map(|c| c.as_ref().filter(|c| c.as_str().eq_ignore_ascii_case(name)))
            .map(|c| Some(c.clone()))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "scan {scan} fired no camera named {name:?} by a wire; its cameras fired by a wire: {}",
                    if fired.contains(&None) { "the rig's one camera (leave --camera out)".to_owned() } else { names() }
                ))
            }),
    }
}

/// `: 2, 5` for shots 2 and 5; nothing for none.
fn list(shots: &[scanrig_actors::model::ShotId]) -> String {
    if shots.is_empty() {
        return String::new();
    }
    let numbers: Vec<String> = shots.iter().map(|s| s.0.to_string()).collect();
    format!(": {}", numbers.join(", "))
}

/// Asks `question` on the terminal; refuses without one.
fn confirmed(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "the match above needs a confirmation and there is no terminal to ask on; check it and run again with --yes".to_owned(),
        ));
    }
    print!("{question} [y/N] ");
    std::io::stdout()
        .flush()
        .context("cannot write the question")?;
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
