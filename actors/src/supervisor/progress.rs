//! Progress as a channel: for the loops that drive a scan from outside the
//! actor system (the command line, the daemon, tests).

use actix::prelude::*;
use tokio::sync::mpsc;

use super::{Progress, Subscribe, Supervisor};

/// Forwards every [`Progress`] into a channel.
struct Forward(mpsc::UnboundedSender<Progress>);

impl Actor for Forward {
    type Context = Context<Self>;
}

impl Handler<Progress> for Forward {
    type Result = ();

    fn handle(&mut self, p: Progress, ctx: &mut Self::Context) {
        if self.0.send(p).is_err() {
            // Nobody reads any more.
            ctx.stop();
        }
    }
}

/// Subscribes to the supervisor's progress; the receiver gets every event
/// from now on.
pub async fn progress(
    sup: &Addr<Supervisor>,
) -> Result<mpsc::UnboundedReceiver<Progress>, MailboxError> {
    let (tx, rx) = mpsc::unbounded_channel();
    sup.send(Subscribe(Forward(tx).start().recipient())).await?;
    Ok(rx)
}
