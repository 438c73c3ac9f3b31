//! Buttons, select menus and modals: a handler per feature (the first part of the
//! `custom_id`, see [`crate::custom_id`]), listed in a [`Components`] registry the router
//! dispatches through. A click whose feature has no handler, or whose handler no longer knows
//! the action or its arguments, is answered privately ("This button is no longer active")
//! instead of Discord's "This interaction failed".

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use twilight_model::channel::message::component::{ActionRow, Button, ButtonStyle};
use twilight_model::channel::message::{Component, EmojiReactionType};

use crate::context::{App, CommandError, ComponentCall};
use crate::custom_id::CustomId;
use crate::discord::Reply;

/// What a click or a modal submission is answered with.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A new message, only for the clicker when `private`.
    Message {
        /// What it says.
        reply: Reply,
        /// Only the clicker sees it.
        private: bool,
    },
    /// Replaces the message the component is on.
    Update(Reply),
    /// Opens a modal (only a click can, not a submission).
    Modal {
        /// Where the submission is routed.
        custom_id: CustomId,
        /// The modal's title.
        title: String,
        /// Action rows of text inputs.
        inputs: Vec<Component>,
    },
}

impl Answer {
    /// A private text message.
    pub fn private(text: impl Into<String>) -> Self {
        Self::Message {
            reply: Reply::text(text),
            private: true,
        }
    }
}

/// How a component handler acknowledges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComponentAck {
    /// Runs first and answers within Discord's 3 seconds (any [`Answer`]).
    Immediate,
    /// Acknowledged privately first; the answer must be a [`Answer::Message`].
    DeferredPrivate,
}

/// Why a handler does not act on a click.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    /// The action or its arguments are not (or no longer) known: the component is stale.
    #[error("this component is no longer active")]
    Stale,
    /// Like a command's error: a message for the clicker, or our failure.
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// The handler of one feature's components and modals.
pub trait ComponentHandler: Send + Sync {
    /// The `custom_id` feature it answers, e.g. `async`.
    fn feature(&self) -> &'static str;

    /// How `call` is acknowledged (immediately by default).
    fn ack(&self, _call: &ComponentCall) -> ComponentAck {
        ComponentAck::Immediate
    }

    /// Acts on a click or a submitted modal (see [`ComponentCall::modal`]).
    fn handle<'a>(
        &'a self,
        app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>>;
}

/// Every component handler by feature.
#[derive(Default)]
pub struct Components {
    handlers: BTreeMap<&'static str, Box<dyn ComponentHandler>>,
}

impl std::fmt::Debug for Components {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl Components {
    /// A registry of `handlers`.
    ///
    /// Errors: two handlers claim one feature.
    pub fn new(handlers: Vec<Box<dyn ComponentHandler>>) -> anyhow::Result<Self> {
        let mut by_feature = BTreeMap::new();
        for handler in handlers {
            let feature = handler.feature();
            if by_feature.insert(feature, handler).is_some() {
                anyhow::bail!("two component handlers claim the feature `{feature}`");
            }
        }
        Ok(Self {
            handlers: by_feature,
        })
    }

    /// Every component handler of the bot (none yet: the features that post components add
    /// theirs here).
    pub fn standard() -> Self {
        Self::default()
    }

    /// The handler of `feature`.
    pub fn get(&self, feature: &str) -> Option<&dyn ComponentHandler> {
        self.handlers.get(feature).map(AsRef::as_ref)
    }
}

/// A button with `custom_id` (see [`CustomId`]), `label`, `style` and an optional emoji.
pub fn button(
    custom_id: &str,
    label: &str,
    style: ButtonStyle,
    emoji: Option<&str>,
    disabled: bool,
) -> Component {
    Component::Button(Button {
        custom_id: Some(custom_id.to_owned()),
        disabled,
        emoji: emoji.map(|name| EmojiReactionType::Unicode {
            name: name.to_owned(),
        }),
        label: Some(label.to_owned()),
        style,
        url: None,
        sku_id: None,
        id: None,
    })
}

/// An action row of `components`.
pub fn row(components: Vec<Component>) -> Component {
    Component::ActionRow(ActionRow {
        id: None,
        components,
    })
}

/// The private answer to a click on a component nobody handles any more.
pub const STALE_BUTTON: &str =
    "This button is no longer active. If you still need it, ask for a new one.";
/// The private answer to a submitted form nobody handles any more.
pub const STALE_FORM: &str =
    "This form is no longer active; nothing was saved. Please start again.";

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);

    impl ComponentHandler for Named {
        fn feature(&self) -> &'static str {
            self.0
        }

        fn handle<'a>(
            &'a self,
            _app: &'a App,
            _call: &'a ComponentCall,
        ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
            Box::pin(async { Err(ComponentError::Stale) })
        }
    }

    #[test]
    fn handlers_are_found_by_feature() {
        let components =
            Components::new(vec![Box::new(Named("async")), Box::new(Named("verify"))]).unwrap();
        assert_eq!(
            components.get("verify").map(|h| h.feature()),
            Some("verify")
        );
        assert!(components.get("election").is_none());
    }

    #[test]
    fn two_handlers_for_one_feature_are_refused() {
        let error = Components::new(vec![Box::new(Named("async")), Box::new(Named("async"))])
            .unwrap_err()
            .to_string();
        assert!(error.contains("`async`"), "{error}");
    }
}
