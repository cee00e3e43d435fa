//! A column of cameras fired together: asking every camera at once (or one
//! after another), each answer noted in the camera's health.

use std::collections::BTreeMap;
use std::rc::Rc;

use actix::prelude::*;
use scanrig_hardware::camera::CameraError;

use super::faults::flatten;
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
        Some(super::stop::failed(shot, &part, e))
    }
}
