//! Carrying out the commands that arrive on the rig's `cmd` topic: each
//! once (by its id), in time (by its `sent_ms`), with the rules the REST
//! API applies, and answered on `reply`.

use std::rc::Rc;

use rumqttc::Publish;
use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::supervisor::Control;
use serde_json::{json, Value};
use slog::{info, warn};

use super::commands::{accepted, refused, Command, Known, Verb};
use super::Rig;
use crate::remote;

/// Carries out one command, once, and answers it.
pub(super) async fn command(rig: Rc<Rig>, p: Publish) {
    let answer = match Command::parse(&p.payload) {
        Err((id, why)) => Some(refused(id.as_deref(), None, 400, "bad_request", &why)),
        Ok(cmd) => once(&rig, cmd).await,
    };
    if let Some(answer) = answer {
        rig.publish(rig.topics.reply(), false, answer.to_string());
    }
    // Acknowledged only now: were the connection lost before, the broker
    // delivers it again, and it is recognised.
    let _ = rig.client.ack(&p).await;
}

/// The answer to `cmd`, carrying it out unless its id was seen; `None`
/// when it is being carried out already (its first delivery answers).
async fn once(rig: &Rig, cmd: Command) -> Option<Value> {
    let Some(id) = cmd.id.clone() else {
        return Some(carry_out(rig, &cmd).await);
    };
    {
        let mut seen = rig.seen.lock().await;
        if rig.in_progress.borrow().contains(&id) {
            info!(rig.log, "a command delivered again while it is carried out"; "id" => &id);
            return None;
        }
        let known = seen.known(&id);
        if known != Known::New {
            info!(rig.log, "a command delivered again is answered, not carried out again"; "id" => &id);
        }
        match known {
            Known::Answered(answer) => return Some(answer),
            Known::Unanswered => {
                return Some(refused(Some(&id), Some(cmd.command), 409, "unknown_outcome",
                    "this command was received before scanrig restarted and may or may not have been carried out; check the status, and send it again with a new id if needed"))
            }
            Known::New => {}
        }
        if let Err(e) = seen.received(&id) {
            return Some(refused(
                Some(&id),
                Some(cmd.command),
                500,
                "internal",
                &format!("cannot write the command down, so it is not carried out: {e}"),
            ));
        }
        rig.in_progress.borrow_mut().insert(id.clone());
    }
    let answer = carry_out(rig, &cmd).await;
    if let Err(e) = rig.seen.lock().await.answered(&id, &answer) {
        warn!(rig.log, "cannot write a command's answer down"; "id" => &id, "error" => %e);
    }
    rig.in_progress.borrow_mut().remove(&id);
    Some(answer)
}

/// Carries out `cmd` with the rules the REST API applies; its answer.
async fn carry_out(rig: &Rig, cmd: &Command) -> Value {
    let (id, verb) = (cmd.id.as_deref(), Some(cmd.command));
    let max_age = rig.settings.mqtt.command_max_age_s * 1000;
    if let Some((code, why)) = cmd.untimely(unix_millis_now(), max_age) {
        return refused(id, verb, 409, code, &why);
    }
    let (settings, sup) = (&rig.settings, &rig.sup);
    let done = match cmd.command {
        Verb::Start => {
            let chosen = cmd
                .profile
                .clone()
                .or_else(|| rig.selected.borrow().clone());
            match chosen {
                Some(name) => remote::start(settings, sup, name).await,
                None => remote::start_configured(settings, sup).await,
            }
            .map(|scan| json!({"scan": scan}))
        }
        Verb::Pause | Verb::Resume | Verb::Stop => {
            let control = match cmd.command {
                Verb::Pause => Control::Pause,
                Verb::Resume => Control::Resume,
                _ => Control::Stop,
            };
            remote::control(sup, control).await.map(|()| json!({}))
        }
        Verb::Home => remote::home(sup, "mqtt".into()).await.map(|()| json!({})),
        Verb::Select => select(rig, cmd.profile.clone()).await,
        Verb::Light => light(rig, cmd).await,
    };
    match done {
        Ok(result) => accepted(id, verb, result),
        Err(e) => refused(id, verb, e.status(), e.code(), &e.to_string()),
    }
}

/// Sets a light by hand: `light` to `brightness` percent.
async fn light(rig: &Rig, cmd: &Command) -> Result<Value, remote::CommandError> {
    let (Some(name), Some(percent)) = (cmd.light.clone(), cmd.brightness) else {
        return Err(remote::CommandError::BadLight(
            "a light command names the light and its brightness: {\"command\": \"light\", \"light\": \"ring\", \"brightness\": 60}".into(),
        ));
    };
    let level = remote::brightness(percent).map_err(remote::CommandError::BadLight)?;
    let lights = remote::set_light(&rig.sup, name, level).await?;
    Ok(json!({ "lights": lights }))
}

/// Chooses the profile a Start without one uses: `profile` by name, or
/// the rig's own (`daemon.profile`, which may be a file) by its name; none
/// given, the choice stays.
async fn select(rig: &Rig, profile: Option<String>) -> Result<Value, remote::CommandError> {
    match profile {
        Some(name) if name == rig.own_profile() => *rig.selected.borrow_mut() = None,
        Some(name) => {
            let found = remote::find_profile(&rig.settings, name).await?;
            *rig.selected.borrow_mut() = Some(found.name);
        }
        None => {}
    }
    let name = rig.selected_name();
    rig.publish(rig.topics.profile(), true, name.clone());
    Ok(json!({"profile": name}))
}
