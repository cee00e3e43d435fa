//! A column of cameras fired together: asking every camera at once (or one
//! after another), which cameras shoot a stop, and when a stop's shutters
//! have all closed, so that the table may leave.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use actix::prelude::*;
use scanrig_hardware::camera::CameraError;

use super::faults::{camera_failed, flatten};
use super::{Fired, Supervisor};
use crate::camera::CameraActor;
use crate::model::{CameraName, Part, ScanId, ShotId};
use crate::sequence::Event;

/// Told each answer of a camera that succeeds, as soon as it comes.
pub(super) type OnAnswer<T> = Rc<dyn Fn(&Part, &T)>;

/// The names of the column's cameras, in its order (`None` for a rig's
/// only camera).
pub(super) fn names(cameras: &[Fired]) -> Vec<Option<CameraName>> {
    cameras.iter().map(|c| c.name.clone()).collect()
}

/// How a camera is called in messages: by its name in a column.
pub(super) fn called(camera: Option<&CameraName>) -> String {
    camera.map_or_else(|| "the camera".to_owned(), |c| format!("camera {c}"))
}

/// What a stop comes to once the cameras asked to expose have answered:
/// the first camera's fault, if any; else `Exposed` only when every part
/// of the stop (each frame of each camera that shoots it) has had its
/// shutter closed (`closed`: an exposure waiting for its download, or its
/// files already in the spool); else the missing ones are taken again.
/// The table leaves a stop on `Exposed` and on nothing else.
pub(super) fn stop_exposed(
    shot: ShotId,
    shooting: &[Part],
    closed: &BTreeSet<Part>,
    fault: Option<Event>,
) -> Event {
    if let Some(fault) = fault {
        return fault;
    }
    match shooting.iter().find(|p| !closed.contains(p)) {
        None => Event::Exposed(shot),
        Some(part) => camera_failed(
            Some(shot),
            CameraError::Driver {
                during: "expose",
                reason: format!(
                    "frame {} of {} was not exposed",
                    part.frame + 1,
                    called(part.camera.as_ref())
                ),
            },
        ),
    }
}

impl Supervisor {
    /// Asks each camera its messages, keyed by part (camera, frame):
    /// every camera at once (or, `cameras_together` off, one after
    /// another), each camera's in the order given, each within its time
    /// limit; a camera's first failure ends its turn. Feeds the event made
    /// from the answers once the last has come (a timeout or a lost thread
    /// is a camera error too).
    pub(super) fn ask_cameras<M, T>(
        &mut self,
        asks: impl IntoIterator<Item = (Part, M)>,
        during: &'static str,
        scan: &ScanId,
        stage: fn(&mut super::StageTimes) -> &mut std::time::Duration,
        then: impl FnOnce(&mut Supervisor, Vec<(Part, Result<T, CameraError>)>) -> Event + 'static,
        ctx: &mut Context<Self>,
    ) where
        M: Message<Result = Result<T, CameraError>> + Send + 'static,
        CameraActor: Handler<M>,
        T: Send + 'static,
    {
        let each: OnAnswer<T> = Rc::new(|_, _| {});
        self.ask_cameras_each(asks, during, scan, stage, each, then, ctx);
    }

    /// [`Supervisor::ask_cameras`], telling `each` every answer that
    /// succeeds as soon as it comes, before the others.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ask_cameras_each<M, T>(
        &mut self,
        asks: impl IntoIterator<Item = (Part, M)>,
        during: &'static str,
        scan: &ScanId,
        stage: fn(&mut super::StageTimes) -> &mut std::time::Duration,
        each: OnAnswer<T>,
        then: impl FnOnce(&mut Supervisor, Vec<(Part, Result<T, CameraError>)>) -> Event + 'static,
        ctx: &mut Context<Self>,
    ) where
        M: Message<Result = Result<T, CameraError>> + Send + 'static,
        CameraActor: Handler<M>,
        T: Send + 'static,
    {
        let timeout = self.camera_timeout;
        // In the column's order; a part of a camera the rig does not have
        // is never asked for (the plan's cameras are checked first).
        let mut by_camera: BTreeMap<usize, Vec<(Part, M)>> = BTreeMap::new();
        for (part, msg) in asks {
            if let Some(i) = self.camera_index(part.camera.as_ref()) {
                by_camera.entry(i).or_default().push((part, msg));
            }
        }
        // Each message is sent when its future is first polled: together,
        // all at once; one after another, each after the last answer.
        let asked: Vec<_> = by_camera
            .into_iter()
            .map(|(camera, asks)| {
                let addr = self.cameras[camera].addr.clone();
                let each = Rc::clone(&each);
                async move {
                    let mut answers = Vec::with_capacity(asks.len());
                    for (part, msg) in asks {
                        let answer =
                            flatten(addr.send(msg).timeout(timeout).await, during, timeout);
                        if let Ok(done) = &answer {
                            each(&part, done);
                        }
                        let failed = answer.is_err();
                        answers.push((part, answer));
                        if failed {
                            break;
                        }
                    }
                    answers
                }
            })
            .collect();
        let then = move |act: &mut Supervisor,
                         answers: Vec<Vec<(Part, Result<T, CameraError>)>>| {
            let answers: Vec<_> = answers.into_iter().flatten().collect();
            act.note_cameras(&answers);
            then(act, answers)
        };
        if self.cameras_together {
            self.ask(
                futures_util::future::join_all(asked),
                scan,
                stage,
                then,
                ctx,
            );
        } else {
            let one_by_one = async move {
                let mut answers = Vec::new();
                for answer in asked {
                    answers.push(answer.await);
                }
                answers
            };
            self.ask(one_by_one, scan, stage, then, ctx);
        }
    }

    /// The place in the column of the camera named `name`.
    pub(super) fn camera_index(&self, name: Option<&CameraName>) -> Option<usize> {
        self.cameras.iter().position(|c| c.name.as_ref() == name)
    }

    /// Each camera of a column's health after its answer.
    fn note_cameras<T>(&mut self, answers: &[(Part, Result<T, CameraError>)]) {
        for (part, answer) in answers {
            let i = self.camera_index(part.camera.as_ref());
            if let Some(c) = i.and_then(|i| self.devices.cameras.get_mut(i)) {
                c.health = match answer {
                    Ok(_) => super::status::Health::ok("working"),
                    Err(e) => super::status::Health {
                        ok: false,
                        detail: e.to_string(),
                    },
                };
            }
        }
    }

    /// The first failure of `answers` as the sequence's event, naming the
    /// camera in a column; `None` when every camera answered.
    pub(super) fn camera_fault<T>(
        &self,
        shot: Option<ShotId>,
        answers: &mut Vec<(Part, Result<T, CameraError>)>,
    ) -> Option<Event> {
        let i = answers.iter().position(|(_, r)| r.is_err())?;
        let (part, Err(e)) = answers.remove(i) else {
            return None;
        };
        let mut event = camera_failed(shot, e);
        if let (Event::DeviceFailed { fault, .. }, Some(name)) = (&mut event, &part.camera) {
            fault.message = format!("camera {name}: {}", fault.message);
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use scanrig_hardware::Degrees;

    use super::*;
    use crate::model::{ScanPlan, Station};
    use crate::sequence::{Command, Sequence, ShotState};

    fn camera(name: &str) -> Option<CameraName> {
        Some(CameraName::new(name).unwrap())
    }

    fn column(names: &[&str]) -> Vec<Option<CameraName>> {
        names.iter().map(|n| camera(n)).collect()
    }

    fn part(name: &str, frame: usize) -> Part {
        Part {
            camera: camera(name),
            frame,
        }
    }

    /// Frame 0 of each camera.
    fn parts(cameras: &[&str]) -> Vec<Part> {
        cameras.iter().map(|c| part(c, 0)).collect()
    }

    fn closed(cameras: &[&str]) -> BTreeSet<Part> {
        parts(cameras).into_iter().collect()
    }

    #[test]
    fn a_stop_is_exposed_only_once_every_shooting_camera_has_closed_its_shutter() {
        let shot = ShotId(4);
        let all = parts(&["low", "mid", "top"]);
        for done in [&[][..], &["low"], &["low", "top"], &["mid", "top"]] {
            let event = stop_exposed(shot, &all, &closed(done), None);
            assert!(
                !matches!(event, Event::Exposed(_)),
                "{done:?} of 3 closed: {event:?}"
            );
        }
        assert_eq!(
            stop_exposed(shot, &all, &closed(&["top", "low", "mid"]), None),
            Event::Exposed(shot)
        );
        // A camera that does not shoot this stop is not waited for.
        assert_eq!(
            stop_exposed(
                shot,
                &parts(&["low", "top"]),
                &closed(&["low", "top"]),
                None
            ),
            Event::Exposed(shot)
        );
    }

    #[test]
    fn a_bracketed_stop_waits_for_every_frame_of_every_camera() {
        let mut plan = plan();
        plan.bracket = Some(Box::new(crate::model::Bracket {
            kind: crate::model::BracketKind::Exposure,
            frames: vec![BTreeMap::new(); 3],
            after: BTreeMap::new(),
        }));
        let needed = plan.parts(ShotId(1), &column(&["low", "top"]));
        assert_eq!(
            needed,
            [
                part("low", 0),
                part("low", 1),
                part("low", 2),
                part("top", 0),
                part("top", 1),
                part("top", 2)
            ]
        );
        let mut done: BTreeSet<Part> = needed.iter().cloned().collect();
        done.remove(&part("top", 2));
        let event = stop_exposed(ShotId(1), &needed, &done, None);
        assert!(!matches!(event, Event::Exposed(_)), "{event:?}");
        done.insert(part("top", 2));
        assert_eq!(
            stop_exposed(ShotId(1), &needed, &done, None),
            Event::Exposed(ShotId(1))
        );
    }

    #[test]
    fn a_camera_s_fault_wins_over_the_others_closing() {
        let fault = camera_failed(Some(ShotId(1)), CameraError::Busy { during: "expose" });
        let event = stop_exposed(
            ShotId(1),
            &parts(&["low", "mid"]),
            &closed(&["low", "mid"]),
            Some(fault.clone()),
        );
        assert_eq!(event, fault);
    }

    fn plan() -> ScanPlan {
        let station = |ring, azimuth: f64, cameras: &[&str]| Station {
            ring,
            index: 1,
            azimuth: Degrees(azimuth),
            tilt: Degrees(0.0),
            cameras: cameras
                .iter()
                .map(|c| CameraName::new(c).unwrap())
                .collect(),
        };
        ScanPlan::new(
            ScanId::from_existing("s"),
            "s",
            "s",
            Duration::ZERO,
            BTreeMap::new(),
            &[station(1, 0.0, &[]), station(2, 90.0, &["top"])],
        )
    }

    #[test]
    fn a_ring_naming_cameras_is_shot_by_those_only() {
        let plan = plan();
        let names = column(&["low", "mid", "top"]);
        assert_eq!(plan.parts(ShotId(1), &names), parts(&["low", "mid", "top"]));
        assert_eq!(plan.parts(ShotId(2), &names), parts(&["top"]));
        // Found by name, whatever the column's order.
        let reordered = column(&["top", "low", "mid"]);
        assert_eq!(plan.parts(ShotId(2), &reordered), parts(&["top"]));
        // The rig's only camera shoots everything.
        let only = Part {
            camera: None,
            frame: 0,
        };
        assert_eq!(plan.parts(ShotId(2), &[None]), [only]);
        assert_eq!(plan.cameras_missing(&names), Vec::<CameraName>::new());
        assert_eq!(
            plan.cameras_missing(&column(&["low", "mid"])),
            column(&["top"]).into_iter().flatten().collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_table_leaves_a_stop_on_exposed_and_not_before() {
        // The sequence moves on from a stop only on `Exposed`, which
        // `stop_exposed` gives only once every shutter has closed: two of
        // three cameras closed leave the table where it is.
        let now = std::time::Instant::now();
        let mut seq = Sequence::new(
            crate::sequence::tests::config(),
            vec![ShotState::Pending; 2],
        );
        let mut commands = Vec::new();
        for event in [
            Event::Start,
            Event::SettingsApplied,
            Event::Homed,
            Event::Moved {
                shot: ShotId(1),
                still: true,
            },
            Event::Settled(ShotId(1)),
        ] {
            commands.extend(seq.handle(event, now));
        }
        assert!(
            commands.contains(&Command::Expose(ShotId(1))),
            "{commands:?}"
        );
        let moved_on = |c: &[Command]| c.contains(&Command::MoveTo(ShotId(2)));
        assert!(!moved_on(&commands), "{commands:?}");
        let all = parts(&["low", "mid", "top"]);
        let partial = stop_exposed(ShotId(1), &all, &closed(&["low", "mid"]), None);
        let retried = seq.handle(partial, now);
        assert!(!moved_on(&retried), "left with a shutter open: {retried:?}");
        let every = stop_exposed(ShotId(1), &all, &closed(&["low", "mid", "top"]), None);
        let after = seq.handle(every, now);
        assert!(
            moved_on(&after),
            "stays after every shutter closed: {after:?}"
        );
    }
}
