//! Whether the rig's `[geometry]` points a profile's shots at the table's
//! middle: a warning names the tilts at which the object would leave the
//! frame (a camera on a tripod, tilted, turns in place and looks past it).

use scanrig_actors::model::Geometry;

use super::Profile;

/// How far from the table's middle a tilt's line of sight may pass it, as
/// a share of the frame's half-height there: past it the object's middle
/// sits more than halfway to the frame's edge, and the object runs out.
const MAX_OFF_AIM: f64 = 0.5;

/// The profile's tilts (each once, in the order shot) at which the
/// camera's line of sight passes the table's axis further from the table's
/// middle (where it passes with the camera level) than [`MAX_OFF_AIM`] of
/// the frame's half-height there, or misses the axis altogether.
pub fn off_aim(geometry: &Geometry, profile: &Profile) -> Vec<f64> {
    let level = geometry.pose(0.0, 0.0).centre[2];
    let half_height = geometry.sensor_height_mm / 2.0 / geometry.focal_mm;
    let mut tilts: Vec<f64> = Vec::new();
    for station in profile.shots() {
        let tilt = station.tilt.get();
        if tilts.contains(&tilt) {
            continue;
        }
        // Seen from the side (the table at 0°), the camera stands at
        // (r, v) looking along (−cos t, −sin t): its line of sight meets
        // the table's axis after `reach` metres, at height `at`.
        let [r, _, v] = geometry.pose(0.0, tilt).centre;
        let (sin, cos) = tilt.to_radians().sin_cos();
        let reach = r / cos;
        let at = v - reach * sin;
        let off = (at - level).abs() * cos;
        let aimed = cos > 0.0 && reach > 0.0 && off <= MAX_OFF_AIM * half_height * reach;
        if !aimed {
            tilts.push(tilt);
        }
    }
    tilts
}

/// The warning for the profile `name`, when its shots at some tilts point
/// away from the table's middle.
pub fn warning(geometry: &Geometry, name: &str, profile: &Profile) -> Option<String> {
    let tilts = off_aim(geometry, profile);
    if tilts.is_empty() {
        return None;
    }
    let list: Vec<String> = tilts.iter().map(|t| format!("{t}°")).collect();
    Some(format!(
        "warning: profile '{name}': at tilt {} the camera looks past the table's \
         middle, so the object would leave the frame: as [geometry] describes the \
         rig, a tilt turns the camera without keeping it aimed at the object. \
         If the camera sits on a tilt arm, set [geometry] distance_m, height_m, \
         arm_out_m and arm_up_m to match it (deploy/HARDWARE.md, \"Rig geometry\"); \
         else leave these tilts out of the profile",
        list.join(", ")
    ))
}
