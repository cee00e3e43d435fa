//! What a device's failure means for the scan: every camera and axis
//! error classed by its type (retried, fatal, refused, gone), and replies
//! from actors flattened into one `Result`.

use std::time::Duration;

use actix::prelude::*;
use scanrig_hardware::axis::AxisError;
use scanrig_hardware::camera::CameraError;

use crate::model::{Device, FaultKind, ShotId};
use crate::sequence::{Event, Fault};

pub(super) fn flatten<T>(
    reply: Result<Result<T, CameraError>, MailboxError>,
    during: &'static str,
    timeout: Duration,
) -> Result<T, CameraError> {
    reply.unwrap_or_else(|e| {
        Err(match e {
            MailboxError::Timeout => CameraError::Timeout {
                during,
                seconds: timeout.as_secs(),
            },
            MailboxError::Closed => CameraError::Driver {
                during,
                reason: "the camera thread is gone".into(),
            },
        })
    })
}

pub(super) fn camera_failed(shot: Option<ShotId>, e: CameraError) -> Event {
    let (device, kind, message) = match &e {
        // Writing to the spool failed: the spool's fault, not the camera's.
        CameraError::Io { path, source } => (
            Device::Spool,
            FaultKind::Fatal,
            format!(
                "the spool cannot take the photo: writing {} failed: {source}; free some space on the spool's disk (or make spool.dir writable), then resume",
                path.display()
            ),
        ),
        CameraError::NotConnected { .. } | CameraError::Disconnected { .. } => (
            Device::Camera,
            FaultKind::Gone,
            format!("camera disconnected ({e})"),
        ),
        e if e.is_configuration() => (Device::Camera, FaultKind::Refused, e.to_string()),
        e => (Device::Camera, FaultKind::Transient, e.to_string()),
    };
    Event::DeviceFailed {
        device,
        shot,
        retake: matches!(e, CameraError::FileGone { .. }),
        fault: Fault { kind, message },
    }
}

/// What an axis error means for the scan: a stop asked for is no failure;
/// a limit, a missing axis or an end-stop never found is fatal at once;
/// the rest is retried within the restart budget.
pub(super) fn table_failed(shot: Option<ShotId>, e: AxisError) -> Event {
    if let AxisError::Stopped { .. } = e {
        return Event::Halted { lost: true };
    }
    let kind = if e.is_fatal() {
        FaultKind::Fatal
    } else {
        FaultKind::Transient
    };
    table_fault(shot, kind, e.to_string())
}

/// The turntable's thread did not answer.
pub(super) fn table_lost(shot: Option<ShotId>, e: MailboxError) -> Event {
    table_fault(
        shot,
        FaultKind::Transient,
        format!("the turntable did not answer: {e}"),
    )
}

fn table_fault(shot: Option<ShotId>, kind: FaultKind, message: String) -> Event {
    Event::DeviceFailed {
        device: Device::Table,
        shot,
        retake: false,
        fault: Fault { kind, message },
    }
}

/// A reply from an actor whose handler returns a `Result`, as one `Result`.
pub(super) fn flat<T, E: std::fmt::Display>(
    reply: Result<Result<T, E>, MailboxError>,
) -> Result<T, String> {
    match reply {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("actor gone: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(e: CameraError) -> Fault {
        match camera_failed(Some(ShotId(1)), e) {
            Event::DeviceFailed { fault, .. } => fault,
            other => panic!("{other:?}"),
        }
    }

    /// Every camera error and its class.
    #[test]
    fn every_camera_error_has_its_class() {
        use FaultKind::*;
        let during = "expose";
        let table: Vec<(CameraError, FaultKind)> = vec![
            (
                CameraError::NotConnected {
                    detail: String::new(),
                },
                Gone,
            ),
            (CameraError::Disconnected { during }, Gone),
            (CameraError::Busy { during }, Transient),
            (
                CameraError::Timeout {
                    during,
                    seconds: 30,
                },
                Transient,
            ),
            (
                CameraError::UnknownSetting {
                    key: "isoo".into(),
                    known: vec!["iso".into()],
                },
                Refused,
            ),
            (
                CameraError::InvalidValue {
                    key: "iso".into(),
                    value: "-1".into(),
                    choices: vec![],
                },
                Refused,
            ),
            (CameraError::Ambiguous { found: vec![] }, Refused),
            (CameraError::FileGone { file: "a".into() }, Transient),
            (
                CameraError::Io {
                    path: "/spool/a".into(),
                    source: std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem),
                },
                Fatal,
            ),
            (
                CameraError::Claimed {
                    port: "usb:".into(),
                },
                Transient,
            ),
            (
                CameraError::Unsupported {
                    during,
                    reason: "no".into(),
                },
                Transient,
            ),
            (
                CameraError::Driver {
                    during,
                    reason: "PTP".into(),
                },
                Transient,
            ),
        ];
        for (e, want) in table {
            let text = e.to_string();
            assert_eq!(fault(e).kind, want, "{text}");
        }
    }

    /// Every destination error and whether it is retried.
    #[test]
    fn every_destination_error_says_whether_it_is_retried() {
        use crate::destination::DestinationError as D;
        let table = [
            (D::Transient("network down".into()), true),
            (D::Permanent("authorisation revoked".into()), false),
            (
                D::Mismatch {
                    name: "a".into(),
                    got: "x".into(),
                    expected: "y".into(),
                },
                true,
            ),
            (
                D::SpoolDamaged {
                    name: "a".into(),
                    reason: "cut short".into(),
                },
                false,
            ),
        ];
        for (e, retried) in table {
            assert_eq!(e.is_retryable(), retried, "{e}");
        }
    }

    #[test]
    fn camera_failures_are_told_apart_by_what_is_at_fault() {
        let full = fault(CameraError::Io {
            path: "/spool/scan/a.jpg".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        });
        assert_eq!(full.kind, FaultKind::Fatal);
        assert!(
            full.message.starts_with("the spool cannot take the photo"),
            "{}",
            full.message
        );
        assert!(full.message.contains("free some space"), "{}", full.message);
        // Journaled and shown as the spool's fault, not the camera's.
        let blamed = |e| match camera_failed(None, e) {
            Event::DeviceFailed { device, .. } => device,
            other => panic!("{other:?}"),
        };
        let io = |kind| CameraError::Io {
            path: "/spool/scan/a.jpg".into(),
            source: std::io::Error::from(kind),
        };
        assert_eq!(blamed(io(std::io::ErrorKind::StorageFull)), Device::Spool);
        assert_eq!(
            blamed(CameraError::Busy { during: "expose" }),
            Device::Camera
        );

        let gone = fault(CameraError::Disconnected { during: "expose" });
        assert_eq!(gone.kind, FaultKind::Gone);
        let refused = fault(CameraError::InvalidValue {
            key: "iso".into(),
            value: "-1".into(),
            choices: vec!["100".into()],
        });
        assert_eq!(refused.kind, FaultKind::Refused);
        let busy = fault(CameraError::Busy { during: "expose" });
        assert_eq!(busy.kind, FaultKind::Transient);
    }

    fn table(e: AxisError) -> Event {
        table_failed(Some(ShotId(1)), e)
    }

    fn kind(event: Event) -> FaultKind {
        match event {
            Event::DeviceFailed { fault, .. } => fault.kind,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn axis_errors_are_classed_by_their_type() {
        use scanrig_hardware::Degrees;
        use std::time::Duration;
        let timeout = AxisError::HomingTimeout {
            axis: "tilt",
            after: Duration::from_secs(60),
        };
        let limit = AxisError::BeyondLimit {
            axis: "tilt",
            target: Degrees(100.0),
            limit: Degrees(90.0),
            setting: "tilt.max_deg",
        };
        let driver = AxisError::Driver {
            axis: "turntable",
            reason: "STEP pin failed".into(),
        };
        assert_eq!(kind(table(timeout)), FaultKind::Fatal);
        assert_eq!(kind(table(limit)), FaultKind::Fatal);
        assert_eq!(kind(table(AxisError::NoTiltAxis)), FaultKind::Fatal);
        assert_eq!(kind(table(driver)), FaultKind::Transient);
        assert_eq!(
            kind(table(AxisError::NotHomed { axis: "tilt" })),
            FaultKind::Transient
        );
        assert_eq!(
            table(AxisError::Stopped { axis: "tilt" }),
            Event::Halted { lost: true },
            "a stop asked for is no failure"
        );
        assert_eq!(
            kind(table_lost(None, MailboxError::Timeout)),
            FaultKind::Transient
        );
    }
}
